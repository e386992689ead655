import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 over a message's envelope fields and body, with a key shared by every service.
 * Verification compares in constant time, so a forger learns nothing from how long a refusal takes.
 */
export class MessageSigner {
  constructor(private readonly key: Uint8Array) {}

  sign(fields: string, body: string | Uint8Array): string {
    return this.digest(fields, body).toString('base64');
  }

  verify(fields: string, body: Uint8Array, signature: string): boolean {
    const given = Buffer.from(signature, 'base64');
    const expected = this.digest(fields, body);
    // timingSafeEqual needs equal lengths; a wrong length is a forgery anyway.
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private digest(fields: string, body: string | Uint8Array): Buffer {
    // A string body is hashed as its UTF-8 bytes: the same bytes that travel.
    const hmac = createHmac('sha256', this.key).update(fields, 'utf8');
    return (typeof body === 'string' ? hmac.update(body, 'utf8') : hmac.update(body)).digest();
  }
}
