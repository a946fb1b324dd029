export function findFirefox(): string | undefined;
export const FIREFOX_PREFS: Record<string, string | number | boolean>;
export const FIREFOX_INSTALL_HINT: string;
