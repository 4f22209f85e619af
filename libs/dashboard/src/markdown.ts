// report.md as HTML (pure). The report is Strata's own markdown (headings, paragraphs, pipe tables, images,
// blockquotes, emphasis, code), so this covers that subset rather than pulling in a general renderer; anything else
// shows as escaped text, never as markup.

export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Inline markup of escaped text; `link` maps a relative image/link target to its URL. */
function inline(raw: string, link: (target: string) => string): string {
  const codes: string[] = [];
  let s = escapeHtml(raw).replace(/`([^`]+)`/g, (_m, c: string) => `\u0000${codes.push(c) - 1}\u0000`);
  s = s.replace(/!\[([^\]]*)\]\(([^)\s]+)\)/g, (_m, alt: string, src: string) => `<img alt="${alt}" src="${escapeHtml(link(unescape(src)))}">`);
  s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, t: string, href: string) => `<a href="${escapeHtml(link(unescape(href)))}">${t}</a>`);
  s = s.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>').replace(/(^|[^*\w])\*([^*\s][^*]*)\*(?!\w)/g, '$1<em>$2</em>');
  return s.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => `<code>${codes[Number(i)]}</code>`);
}

const unescape = (s: string) => s.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'");

const splitRow = (line: string) => line.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').map((c) => c.trim());

export function markdownToHtml(md: string, link: (target: string) => string = (t) => t): string {
  const lines = md.replace(/\r\n/g, '\n').split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      out.push(`<h${heading[1].length}>${inline(heading[2], link)}</h${heading[1].length}>`);
      i++;
    } else if (/^\s*\|/.test(line)) {
      const rows: string[][] = [];
      let align: string[] = [];
      while (i < lines.length && /^\s*\|/.test(lines[i])) {
        const cells = splitRow(lines[i]);
        if (cells.every((c) => /^:?-{3,}:?$/.test(c))) align = cells.map((c) => (c.endsWith(':') ? ' class="num"' : ''));
        else rows.push(cells);
        i++;
      }
      const [head, ...body] = rows;
      out.push('<table>', `<thead><tr>${head.map((c) => `<th>${inline(c, link)}</th>`).join('')}</tr></thead>`, '<tbody>');
      for (const r of body) out.push(`<tr>${r.map((c, k) => `<td${align[k] ?? ''}>${inline(c, link)}</td>`).join('')}</tr>`);
      out.push('</tbody></table>');
    } else if (/^>\s?/.test(line)) {
      const quote: string[] = [];
      while (i < lines.length && /^>\s?/.test(lines[i])) quote.push(lines[i++].replace(/^>\s?/, ''));
      out.push(`<blockquote><p>${inline(quote.join(' '), link)}</p></blockquote>`);
    } else if (/^\s*[-*]\s+/.test(line)) {
      out.push('<ul>');
      while (i < lines.length && /^\s*[-*]\s+/.test(lines[i])) out.push(`<li>${inline(lines[i++].replace(/^\s*[-*]\s+/, ''), link)}</li>`);
      out.push('</ul>');
    } else if (line.startsWith('```')) {
      const code: string[] = [];
      i++;
      while (i < lines.length && !lines[i].startsWith('```')) code.push(lines[i++]);
      i++;
      out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`);
    } else if (line.trim() === '') i++;
    else {
      const para: string[] = [];
      while (i < lines.length && lines[i].trim() !== '' && !/^(#{1,6}\s|\s*\||>|```|\s*[-*]\s)/.test(lines[i])) para.push(lines[i++]);
      out.push(`<p>${inline(para.join(' '), link)}</p>`);
    }
  }
  return out.join('\n');
}
