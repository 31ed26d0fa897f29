import twilio from 'twilio';
import { signWebhook } from './webhook-signature';

const TOKEN = '0123456789abcdef0123456789abcdef';
const BODY = JSON.stringify([{ specversion: '1.0', id: 'AE' + 'a'.repeat(32), data: { friendly_name: 'héllo & "you"' } }]);

describe('signWebhook', () => {
  it("is accepted by twilio-node's validateRequestWithBody, with the URL as the receiver sees it", () => {
    const signed = signWebhook('https://hooks.example.com/events', BODY, TOKEN);
    expect(signed.url).toMatch(/^https:\/\/hooks\.example\.com\/events\?bodySHA256=[0-9a-f]{64}$/);
    expect(twilio.validateRequestWithBody(TOKEN, signed.signature, signed.url, BODY)).toBe(true);
    expect(signed.authorization).toBeNull();
  });

  it("keeps the destination's own query as it was, and the port", () => {
    const signed = signWebhook('http://127.0.0.1:8080/in?tenant=a%20b&x=1', BODY, TOKEN);
    expect(signed.url.startsWith('http://127.0.0.1:8080/in?tenant=a%20b&x=1&bodySHA256=')).toBe(true);
    expect(twilio.validateRequestWithBody(TOKEN, signed.signature, signed.url, BODY)).toBe(true);
  });

  it('fails for another token, another body, or another URL', () => {
    const signed = signWebhook('https://hooks.example.com/events', BODY, TOKEN);
    expect(twilio.validateRequestWithBody('f'.repeat(32), signed.signature, signed.url, BODY)).toBe(false);
    expect(twilio.validateRequestWithBody(TOKEN, signed.signature, signed.url, `${BODY} `)).toBe(false);
    expect(twilio.validateRequestWithBody(TOKEN, signed.signature, signed.url.replace('/events', '/other'), BODY)).toBe(false);
  });

  it('signs the URL without its credentials and sends them as Basic auth, as Twilio does', () => {
    const signed = signWebhook('https://user:p%40ss@hooks.example.com/events#frag', BODY, TOKEN);
    expect(signed.url).not.toContain('user');
    expect(signed.url).not.toContain('#');
    expect(signed.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    expect(twilio.validateRequestWithBody(TOKEN, signed.signature, signed.url, BODY)).toBe(true);
  });
});
