/**
 * Group colours with a known text contrast. Hues step by the golden angle so that neighbouring groups
 * differ; lightness is in OKLCH, so it is perceptual, and the strong colour is darkened until white text
 * on it reaches 4.5:1 (WCAG AA) with a margin, measured on the sRGB colour the browser will paint.
 */

type RGB = [number, number, number];

function oklchToSrgb(L: number, Cc: number, hDeg: number): RGB {
  const h = (hDeg * Math.PI) / 180;
  const a = Cc * Math.cos(h);
  const b = Cc * Math.sin(h);
  const l_ = L + 0.3963377774 * a + 0.2158037573 * b;
  const m_ = L - 0.1055613458 * a - 0.0638541728 * b;
  const s_ = L - 0.0894841775 * a - 1.291485548 * b;
  const l = l_ ** 3;
  const m = m_ ** 3;
  const s = s_ ** 3;
  const lin: RGB = [
    4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
    -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
    -0.0041960863 * l - 0.7034186147 * m + 1.707614701 * s,
  ];
  const enc = (v: number) => {
    const x = Math.min(1, Math.max(0, v));
    return x <= 0.0031308 ? 12.92 * x : 1.055 * x ** (1 / 2.4) - 0.055;
  };
  // Round to the 8-bit colour that is actually painted.
  return lin.map((v) => Math.round(enc(v) * 255) / 255) as RGB;
}

function luminance([r, g, b]: RGB): number {
  const lin = (v: number) => (v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
  return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}

export function contrast(a: RGB, b: RGB): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

const hex = (c: RGB) => '#' + c.map((v) => Math.round(v * 255).toString(16).padStart(2, '0')).join('');

export const WHITE: RGB = [1, 1, 1];
/** The text colour on tinted (not selected) cells. */
export const INK: RGB = [0x1d / 255, 0x23 / 255, 0x2b / 255];

export interface GroupColors {
  /** Background of the selected group's cells (white text on it is ≥ 4.8:1). */
  strong: string;
  /** Border of the selected group's cells. */
  strongEdge: string;
  /** Background of the other groups' cells (dark text on it). */
  tint: string;
  /** Border of the other groups' cells. */
  tintEdge: string;
  /** Shades for the cube's top and right faces. */
  strongTop: string;
  strongSide: string;
  tintTop: string;
  tintSide: string;
}

const cache = new Map<number, GroupColors>();

export const hueOf = (g: number) => (250 + g * 137.508) % 360;

export function groupColors(g: number): GroupColors {
  const hit = cache.get(g);
  if (hit) return hit;
  const h = hueOf(g);
  let L = 0.55;
  let rgb = oklchToSrgb(L, 0.13, h);
  while (contrast(rgb, WHITE) < 4.8 && L > 0.2) {
    L -= 0.01;
    rgb = oklchToSrgb(L, 0.13, h);
  }
  const colors: GroupColors = {
    strong: hex(rgb),
    strongEdge: hex(oklchToSrgb(L - 0.2, 0.1, h)),
    strongTop: hex(oklchToSrgb(L + 0.1, 0.13, h)),
    strongSide: hex(oklchToSrgb(L - 0.1, 0.11, h)),
    tint: hex(oklchToSrgb(0.95, 0.035, h)),
    tintEdge: hex(oklchToSrgb(0.75, 0.06, h)),
    tintTop: hex(oklchToSrgb(0.975, 0.02, h)),
    tintSide: hex(oklchToSrgb(0.88, 0.045, h)),
  };
  cache.set(g, colors);
  return colors;
}
