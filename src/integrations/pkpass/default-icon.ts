import { encodePng } from '../../common/png';

/** Apple's icon slot is 29×29 points. */
const ICON_POINTS = 29;
const SUPERSAMPLING = 4;

/**
 * A neutral icon (grey rounded square, light ring) for campaigns that upload none: Wallet will not
 * open a pass without `icon.png`.
 */
function renderIcon(scale: number): Buffer {
  const size = ICON_POINTS * scale;
  const rgba = new Uint8Array(size * size * 4);
  const centre = ICON_POINTS / 2;
  const corner = 6.5;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let shape = 0;
      let ring = 0;
      for (let sy = 0; sy < SUPERSAMPLING; sy++) {
        for (let sx = 0; sx < SUPERSAMPLING; sx++) {
          const px = (x + (sx + 0.5) / SUPERSAMPLING) / scale;
          const py = (y + (sy + 0.5) / SUPERSAMPLING) / scale;
          const dx = Math.max(corner - px, 0, px - (ICON_POINTS - corner));
          const dy = Math.max(corner - py, 0, py - (ICON_POINTS - corner));
          if (dx * dx + dy * dy <= corner * corner) shape++;
          const r = Math.hypot(px - centre, py - centre);
          if (r >= 6 && r <= 8.5) ring++;
        }
      }
      const samples = SUPERSAMPLING * SUPERSAMPLING;
      const ringShare = ring / samples;
      const grey = Math.round(142 + (242 - 142) * ringShare);
      const i = (y * size + x) * 4;
      rgba[i] = grey;
      rgba[i + 1] = grey;
      rgba[i + 2] = Math.min(255, grey + 5);
      rgba[i + 3] = Math.round((255 * shape) / samples);
    }
  }
  return encodePng(size, size, rgba);
}

let cached: { 'icon.png': Buffer; 'icon@2x.png': Buffer } | undefined;

/** `icon.png` (29×29) and `icon@2x.png` (58×58), rendered once per process. */
export function defaultIconFiles(): { 'icon.png': Buffer; 'icon@2x.png': Buffer } {
  cached ??= { 'icon.png': renderIcon(1), 'icon@2x.png': renderIcon(2) };
  return cached;
}
