import { isIP } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { RUNTIME, type Runtime } from '@accountable/platform';

/**
 * The base of the absolute URLs in answers (Monitor Events' `url`, `links`, page URLs): PUBLIC_URL,
 * or `http://HOST:port` as this process listens. Never the request's Host or X-Forwarded-Host:
 * a client (or anyone able to set a header on the way) would choose where other clients' next
 * request goes.
 */
@Injectable()
export class PublicUrl {
  private derived?: string;

  constructor(
    @Inject(RUNTIME) private readonly runtime: Runtime,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Without a trailing slash. */
  get base(): string {
    const configured = this.runtime.config.PUBLIC_URL;
    if (configured !== undefined) return configured;
    if (this.derived !== undefined) return this.derived;
    const address = this.adapterHost.httpAdapter.getHttpServer().address();
    const listening = typeof address === 'object' && address !== null;
    const base = `http://${hostOf(this.runtime.config.HOST)}:${listening ? address.port : this.runtime.config.PORT}`;
    // PORT=0 is known only once listening.
    if (listening) this.derived = base;
    return base;
  }
}

/** A wildcard listen address is reached on the loopback from this machine. */
function hostOf(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return isIP(host) === 6 ? `[${host}]` : host;
}
