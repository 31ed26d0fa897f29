import { visible } from './cli-output';

describe('visible (CLI text for a terminal)', () => {
  it('shows escape sequences, C1 controls, DEL and bidirectional overrides as escapes', () => {
    const stored = 'a\x1b[2J\x1b]0;title\x07b\x9b31m\x7f\u202eevil\u2066\r';
    expect(visible(stored)).toBe('a\\x1b[2J\\x1b]0;title\\x07b\\x9b31m\\x7f\\u202eevil\\u2066\\x0d');
    expect(visible(stored)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e\u2066]/);
  });

  it('keeps line feeds between lines, escapes them (and tabs) inside a value', () => {
    expect(visible('one\ntwo\tx')).toBe('one\ntwo\\x09x');
    expect(visible('name\nv9  forged line', { inline: true })).toBe('name\\x0av9  forged line');
  });

  it('leaves printable text, accents and emoji alone', () => {
    const text = 'Zürich — 東京 🚀 "quoted" \\ backslash';
    expect(visible(text, { inline: true })).toBe(text);
  });
});
