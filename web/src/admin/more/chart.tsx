/**
 * A bar chart drawn as inline SVG: the console's reports need a handful of bars and a line, which is
 * less code than a chart library's configuration, loads nothing from a CDN, and stays within the
 * content security policy (colours are SVG presentation attributes, not inline styles). The numbers are also given as a table
 * by the caller, so the chart is a picture of data a screen reader can read elsewhere.
 */

export interface Bar {
  /** The x-axis label (a day, a week, a product name). */
  label: string;
  /** The bar's height, in the unit of `format` (minor units for money); may be negative. */
  value: number;
  /** An optional second series drawn as dots joined by a line (orders per day, say). */
  line?: number;
}

interface Props {
  bars: Bar[];
  /** What the chart shows, for its accessible name and its title. */
  title: string;
  format: (value: number) => string;
  lineTitle?: string;
  testId?: string;
  height?: number;
}

const WIDTH = 640;
const PAD_LEFT = 64;
const PAD_RIGHT = 40;
const PAD_TOP = 12;
const PAD_BOTTOM = 36;

/** Round `max` up to 1, 2 or 5 times a power of ten, so the axis ticks are numbers people read. */
export function niceCeiling(max: number): number {
  if (max <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) {
    if (step * power >= max) return step * power;
  }
  return 10 * power;
}

export function BarChart({ bars, title, format, lineTitle, testId, height = 220 }: Props) {
  const plotWidth = WIDTH - PAD_LEFT - PAD_RIGHT;
  const plotHeight = height - PAD_TOP - PAD_BOTTOM;
  const top = niceCeiling(Math.max(0, ...bars.map((b) => b.value)));
  const bottom = -niceCeiling(Math.max(0, ...bars.map((b) => -b.value))) * (bars.some((b) => b.value < 0) ? 1 : 0);
  const span = top - bottom || 1;
  const y = (v: number) => PAD_TOP + ((top - v) / span) * plotHeight;
  const slot = bars.length ? plotWidth / bars.length : plotWidth;
  const barWidth = Math.max(2, slot * 0.7);
  const lineMax = niceCeiling(Math.max(0, ...bars.map((b) => b.line ?? 0)));
  const lineY = (v: number) => PAD_TOP + (1 - v / lineMax) * plotHeight;
  const hasLine = bars.some((b) => b.line !== undefined);
  // Label at most ~8 bars on the x axis so the text never overlaps.
  const every = Math.max(1, Math.ceil(bars.length / 8));
  // `|| 0` turns a -0 (a bottom of Math.min(0, ...)) into 0, so the axis never reads "-€0.00".
  const ticks = [top, (top + bottom) / 2, bottom].map((t) => t || 0);

  return (
    <figure class="chart" data-testid={testId}>
      <svg
        viewBox={`0 0 ${WIDTH} ${height}`}
        role="img"
        aria-label={title}
        preserveAspectRatio="xMidYMid meet"
        width="100%"
      >
        <title>{title}</title>
        {ticks.map((t) => (
          <g key={`tick-${t}`}>
            <line x1={PAD_LEFT} x2={WIDTH - PAD_RIGHT} y1={y(t)} y2={y(t)} stroke="#d8d8d8" />
            <text x={PAD_LEFT - 6} y={y(t) + 4} text-anchor="end" font-size="11" fill="#444">
              {format(t)}
            </text>
          </g>
        ))}
        {bars.map((b, i) => {
          const x = PAD_LEFT + i * slot + (slot - barWidth) / 2;
          const y0 = y(Math.max(0, b.value));
          const h = Math.abs(y(b.value) - y(0));
          return (
            <g key={`bar-${i}`}>
              <rect
                x={x}
                y={y0}
                width={barWidth}
                height={Math.max(h, b.value === 0 ? 0 : 1)}
                fill={b.value < 0 ? "#b5473a" : "#3b6ea5"}
                data-testid={testId ? `${testId}-bar` : undefined}
              >
                <title>{`${b.label}: ${format(b.value)}${b.line !== undefined && lineTitle ? `, ${lineTitle} ${b.line}` : ""}`}</title>
              </rect>
              {i % every === 0 ? (
                <text x={x + barWidth / 2} y={height - PAD_BOTTOM + 16} text-anchor="middle" font-size="11" fill="#444">
                  {b.label.length > 12 ? `${b.label.slice(0, 11)}…` : b.label}
                </text>
              ) : null}
            </g>
          );
        })}
        {hasLine ? (
          <g stroke="#c46a00" fill="#c46a00">
            <polyline
              fill="none"
              stroke-width={2}
              points={bars.map((b, i) => `${PAD_LEFT + i * slot + slot / 2},${lineY(b.line ?? 0)}`).join(" ")}
            />
            {bars.map((b, i) => (
              <circle key={`dot-${i}`} cx={PAD_LEFT + i * slot + slot / 2} cy={lineY(b.line ?? 0)} r={3} />
            ))}
            <text x={WIDTH - PAD_RIGHT + 4} y={PAD_TOP + 4} font-size="11" fill="#444">
              {lineMax}
            </text>
          </g>
        ) : null}
      </svg>
      <figcaption>
        {title}
        {hasLine && lineTitle ? <span class="muted"> — bars: {title.toLowerCase()}, line: {lineTitle}</span> : null}
      </figcaption>
    </figure>
  );
}
