export function findBrowser(env: string[], names: string[]): string | undefined;
export function findChromium(): string | undefined;
export const CHROMIUM_ARGS: string[];
export function browserRequired(): boolean;
export const INSTALL_HINT: string;
export function listTestFiles(dir?: string): string[];
