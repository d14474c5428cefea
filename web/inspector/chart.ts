// A small chart of requests, notifications and interrupts per sample interval over the last
// HISTORY samples, drawn on a canvas (no dependency).
export const HISTORY = 120; // 30 s at 4 samples/s

export interface Sample {
  requests: number;
  notifications: number;
  interrupts: number;
}

const SERIES: [keyof Sample, string][] = [["requests", "#7ee787"], ["notifications", "#58a6ff"], ["interrupts", "#f0883e"]];

export function drawChart(canvas: HTMLCanvasElement, samples: readonly Sample[]): void {
  const ctx = canvas.getContext("2d");
  if (!ctx) return;
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = "#101418";
  ctx.fillRect(0, 0, w, h);
  let max = 1;
  for (const s of samples) for (const [k] of SERIES) max = Math.max(max, s[k]);
  ctx.font = "10px sans-serif";
  SERIES.forEach(([k, color], i) => {
    ctx.strokeStyle = color;
    // Often equal (one request, one kick, one interrupt): wider lines underneath stay visible.
    ctx.lineWidth = 5 - 2 * i;
    ctx.beginPath();
    samples.forEach((s, j) => {
      const x = (j / (HISTORY - 1)) * w, y = h - 12 - (s[k] / max) * (h - 16);
      if (j === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = color;
    ctx.fillText(k, 4 + i * 90, h - 2);
  });
  ctx.fillStyle = "#8b949e";
  ctx.fillText(`max ${max}/sample`, w - 90, 10);
}
