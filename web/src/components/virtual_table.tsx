// A table of many rows (a group of 10,000 snapshots) that renders only the rows in view plus a
// margin: the rest are two spacer rows of the right height, so the scroll bar and keyboard
// scrolling behave as if every row were there.
import { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { Column, EmptyRow, TableHead } from "./ui";

const kRowHeight = 40;
const kMargin = 10;

interface Props<T> {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  height?: number;
  empty?: ComponentChildren;
}

export function VirtualTable<T>({ caption, columns, rows, rowKey, height = 520, empty }: Props<T>) {
  const [scrollTop, setScrollTop] = useState(0);
  const first = Math.max(0, Math.floor(scrollTop / kRowHeight) - kMargin);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / kRowHeight) + kMargin);
  const spacer = (rowsHidden: number) =>
    rowsHidden > 0 ? (
      <tr aria-hidden="true" class="spacer" style={{ height: `${rowsHidden * kRowHeight}px` }}>
        <td colSpan={columns.length} />
      </tr>
    ) : null;
  return (
    <div
      class="virtual"
      style={{ maxHeight: `${height}px` }}
      tabIndex={0}
      role="region"
      aria-label={caption}
      onScroll={(event) => setScrollTop(event.currentTarget.scrollTop)}
    >
      <table aria-rowcount={rows.length + 1}>
        <TableHead caption={caption} columns={columns} />
        <tbody>
          {rows.length === 0 && <EmptyRow columns={columns.length} text={empty} />}
          {spacer(first)}
          {rows.slice(first, last).map((row, index) => (
            <tr key={rowKey(row)} style={{ height: `${kRowHeight}px` }} aria-rowindex={first + index + 2}>
              {columns.map((column) => (
                <td class={column.align}>{column.render(row)}</td>
              ))}
            </tr>
          ))}
          {spacer(rows.length - last)}
        </tbody>
      </table>
    </div>
  );
}
