// The one rule for names that may reach a shell, a cloud tag or an object key (DESIGN §2).
export const NAME_PATTERN = /^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$/;
export const NAME_MAX_LENGTH = 40;

export function isValidName(value: string): boolean {
  return NAME_PATTERN.test(value);
}

export function nameProblem(value: string): string | null {
  if (value.length === 0) return 'must not be empty';
  if (value.length > NAME_MAX_LENGTH) return `must be at most ${NAME_MAX_LENGTH} characters`;
  if (!isValidName(value)) {
    return 'must be a DNS-1123 label: lower-case letters, digits and "-", starting with a letter and ending with a letter or digit';
  }
  return null;
}
