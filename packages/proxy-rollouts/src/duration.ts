const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a Go duration string such as "90s", "1m30s" or "500ms" (the CRDs' pattern). */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text)
    throw new Error(`"${text}" is not a duration such as 30s, 10m or 1h30m`);
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * (unitMs[unit ?? 's'] ?? 0), 0);
}
