export interface Probes {
  copy(x: number, y: number, n: number): void;
  sum(x: number, n: number): number;
  moments(x: number, n: number): number;
  affine(x: number, y: number, n: number, a: number, b: number): void;
  memory: WebAssembly.Memory;
}
export function compileEntry(entry: string | URL, features?: string): Promise<Uint8Array<ArrayBuffer>>;
export function compileProbes(features: string): Promise<Uint8Array>;
export function loadProbes(bytes: Uint8Array, n: number): Promise<{ k: Probes; memory: WebAssembly.Memory; x: number; y: number }>;
export type ProbeErrors = { copy: number; sum: number; moments: number; affine: number };
export const PROBE_TOLERANCE: ProbeErrors;
export function probeErrors(bytes: Uint8Array): Promise<ProbeErrors>;
export function checkProbes(bytes: Uint8Array, name: string): Promise<ProbeErrors>;
