import { describe, expect, it } from 'vitest';
import { EMAIL_RE, passwordChecks, passwordOk, USERNAME_RE } from './validation';

describe('validation', () => {
  it('checks usernames like the backend', () => {
    expect(USERNAME_RE.test('xiao_ming1')).toBe(true);
    expect(USERNAME_RE.test('xm')).toBe(false);
    expect(USERNAME_RE.test('小明abc')).toBe(false);
    expect(USERNAME_RE.test('a'.repeat(33))).toBe(false);
  });
  it('checks emails loosely', () => {
    expect(EMAIL_RE.test('a@b.cn')).toBe(true);
    expect(EMAIL_RE.test('a@b')).toBe(false);
  });
  it('counts password bytes, not characters', () => {
    expect(passwordOk('12345678')).toBe(true);
    expect(passwordChecks('1234567').minLength).toBe(false);
    expect(passwordChecks('密'.repeat(24)).maxBytes).toBe(true); // 72 bytes
    expect(passwordChecks('密'.repeat(25)).maxBytes).toBe(false); // 75 bytes
  });
});
