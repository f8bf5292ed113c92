/**
 * Online users by nick, and the nick rules of the C server (login.c
 * `invalid_nick`): no spaces, control characters, bytes ≥ 0x80 or ':'.
 * One entry per logged-in connection; removing a user is the caller's job
 * when its connection closes.
 */
import type { ServerUser } from './server-model.js';

/**
 * Longest nick accepted. The C server makes this configurable
 * (`Max_Nick_Length`); 32 bytes is generous for real clients and keeps every
 * 201 result line short.
 */
export const MAX_NICK_LENGTH = 32;

/** True when `nick` may be used (login.c `invalid_nick`, inverted). */
export function isValidNick(nick: string): boolean {
  if (nick.length === 0 || nick.length > MAX_NICK_LENGTH) return false;
  for (let i = 0; i < nick.length; i++) {
    const c = nick.charCodeAt(i);
    // Printable ASCII only (0x21–0x7e), and no ':' which server-to-server messages use as a prefix.
    if (c <= 0x20 || c >= 0x7f || c === 0x3a) return false;
  }
  return true;
}

export class UserRegistry {
  private readonly byNick = new Map<string, ServerUser>();

  get size(): number {
    return this.byNick.size;
  }

  get(nick: string): ServerUser | undefined {
    return this.byNick.get(nick);
  }

  has(nick: string): boolean {
    return this.byNick.has(nick);
  }

  /** Adds a user; false when the nick is already online. */
  add(user: ServerUser): boolean {
    if (this.byNick.has(user.nick)) return false;
    this.byNick.set(user.nick, user);
    return true;
  }

  /** Removes `user` if it is the one registered under its nick. */
  remove(user: ServerUser): void {
    if (this.byNick.get(user.nick) === user) this.byNick.delete(user.nick);
  }
}
