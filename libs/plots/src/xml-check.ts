// A minimal XML well-formedness check for tests (Node has no DOMParser): balanced tags, quoted attributes,
// no raw `<` or stray `&` in text or attribute values. Not exported from the package.

/** Returns the problems found; an empty list means well-formed as far as this check goes. */
export function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  const entity = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const checkText = (s: string, where: string) => {
    if (s.includes('<') || s.includes('>')) problems.push(`raw < or > in ${where}: ${JSON.stringify(s.slice(0, 40))}`);
    for (let k = s.indexOf('&'); k >= 0; k = s.indexOf('&', k + 1)) {
      entity.lastIndex = k;
      if (!entity.test(s)) problems.push(`stray & in ${where}: ${JSON.stringify(s.slice(k, k + 12))}`);
    }
  };
  let pos = 0;
  let roots = 0;
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>/y;
  while (pos < xml.length) {
    const lt = xml.indexOf('<', pos);
    const textEnd = lt < 0 ? xml.length : lt;
    const between = xml.slice(pos, textEnd);
    checkText(between, 'text');
    if (stack.length === 0 && between.trim() !== '') problems.push(`text outside the root element: ${JSON.stringify(between.trim().slice(0, 40))}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(xml);
    if (!m) {
      problems.push(`malformed tag at ${lt}: ${JSON.stringify(xml.slice(lt, lt + 40))}`);
      break;
    }
    const [, closing, name, attrs, selfClosing] = m;
    for (const a of attrs.matchAll(/\s+([\w:.-]+)="([^"]*)"/g)) checkText(a[2], `attribute ${a[1]} of <${name}>`);
    if (closing) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open ?? 'nothing'}>`);
    } else {
      if (stack.length === 0) roots++;
      if (!selfClosing) stack.push(name);
    }
    pos = tag.lastIndex;
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}
