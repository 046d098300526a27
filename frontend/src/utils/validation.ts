// The account rules the backend enforces, checked in the browser first so the form can say
// what is wrong before submitting. The server stays the judge (its errors are shown too).

export const USERNAME_RE = /^[A-Za-z0-9_]{3,32}$/;
export const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

export function passwordChecks(password: string) {
  return {
    minLength: [...password].length >= 8,
    maxBytes: utf8Length(password) <= 72,
  };
}

export function passwordOk(password: string): boolean {
  const c = passwordChecks(password);
  return c.minLength && c.maxBytes;
}
