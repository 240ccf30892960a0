/** Small DOM builders: text goes in as text nodes, never as HTML. */

type Child = Node | string | null | undefined | false;
type Attributes = Readonly<Record<string, string | boolean | undefined>>;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Attributes = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name === 'class') node.className = String(value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

/** A message in place of a view's content: `empty` (nothing to show yet), `error`, `info`. */
export function notice(kind: 'empty' | 'error' | 'info', ...text: Child[]): HTMLElement {
  return el('p', { class: `notice notice-${kind}`, 'data-state': kind }, ...text);
}

export function code(text: string): HTMLElement {
  return el('code', {}, text);
}

/**
 * The numbers behind a chart, for screen readers and anyone who wants them exact: a table inside
 * a disclosure, closed by default.
 */
export function dataTable(
  caption: string,
  headers: readonly string[],
  rows: readonly (readonly Child[])[],
  open = false,
): HTMLElement {
  const table = el(
    'table',
    { class: 'data-table' },
    el('caption', {}, caption),
    el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((cell) => el('td', {}, cell))))),
  );
  return el('details', { class: 'data', open }, el('summary', {}, `Data table: ${caption}`), table);
}

export function replaceContent(container: Element, ...children: Child[]): void {
  container.replaceChildren(
    ...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false),
  );
}

/** A chart with its caption; the chart itself is drawn into the returned `canvas` holder. */
export function chartFigure(name: string, caption: string): { figure: HTMLElement; canvas: HTMLElement } {
  const canvas = el('div', { class: 'chart', 'data-chart': name, 'aria-hidden': 'true' });
  return { figure: el('figure', { class: 'chart-figure' }, el('figcaption', {}, caption), canvas), canvas };
}

/** Headline figures above a chart. */
export function figures(items: readonly (readonly [label: string, value: string])[]): HTMLElement {
  return el(
    'dl',
    { class: 'figures' },
    ...items.map(([label, value]) => el('div', {}, el('dt', {}, label), el('dd', {}, value))),
  );
}
