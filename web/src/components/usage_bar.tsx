import { formatBytes, formatPercent } from "../format";

// A meter of used against total space.
export function UsageBar({ used, total }: { used?: number; total?: number }) {
  if (used === undefined || !total) return <span>–</span>;
  const fraction = used / total;
  return (
    <div class="usage">
      <meter min={0} max={1} value={fraction} high={0.85} optimum={0.2}
             aria-label={`Used ${formatPercent(fraction)}`} />
      <span>
        {formatBytes(used)} of {formatBytes(total)} ({formatPercent(fraction)})
      </span>
    </div>
  );
}
