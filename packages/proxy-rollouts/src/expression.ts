/**
 * successCondition expressions: numbers, the variables a measurement provides (canary, stable, samples),
 * + - * /, comparisons, && || !, and parentheses. Parsed by a small recursive-descent parser rather than
 * evaluated as JavaScript, so a template can never run code in the controller.
 */
export type Variables = Record<string, number>;
type Value = number | boolean;
type Node = (vars: Variables) => Value;

export class ExpressionError extends Error {
  constructor(expression: string, position: number, what: string) {
    super(`successCondition "${expression}": ${what} at character ${position + 1}`);
    this.name = 'ExpressionError';
  }
}

const tokenPattern =
  /\s*(?:(\d+(?:\.\d+)?(?:e[+-]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|&&|\|\||[-+*/<>!()]))/y;

export function compileExpression(expression: string, variables: readonly string[]): Node {
  const tokens: { text: string; kind: 'number' | 'name' | 'op'; at: number }[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < expression.length) {
    const at = tokenPattern.lastIndex;
    const match = tokenPattern.exec(expression);
    if (!match) {
      if (expression.slice(at).trim() === '') break;
      throw new ExpressionError(expression, at, `unexpected "${expression.slice(at).trim()[0]}"`);
    }
    const [, number, name, op] = match;
    const start = at + match[0].length - (number ?? name ?? op ?? '').length;
    if (number !== undefined) tokens.push({ text: number, kind: 'number', at: start });
    else if (name !== undefined) tokens.push({ text: name, kind: 'name', at: start });
    else tokens.push({ text: op ?? '', kind: 'op', at: start });
  }
  let index = 0;
  const peek = () => tokens[index];
  const fail = (what: string) => new ExpressionError(expression, peek()?.at ?? expression.length, what);
  const take = (text: string) => {
    if (peek()?.text === text && peek()?.kind === 'op') {
      index++;
      return true;
    }
    return false;
  };
  const num = (node: Node, vars: Variables): number => {
    const value = node(vars);
    if (typeof value !== 'number')
      throw new Error(`successCondition "${expression}": a comparison used as a number`);
    return value;
  };
  const bool = (node: Node, vars: Variables): boolean => {
    const value = node(vars);
    if (typeof value !== 'boolean')
      throw new Error(`successCondition "${expression}": a number used as a condition`);
    return value;
  };

  function primary(): Node {
    const token = peek();
    if (!token) throw fail('expression ends early');
    index++;
    if (token.kind === 'number') {
      const value = Number(token.text);
      return () => value;
    }
    if (token.kind === 'name') {
      if (token.text === 'true' || token.text === 'false') {
        const value = token.text === 'true';
        return () => value;
      }
      if (!variables.includes(token.text)) {
        index--;
        throw fail(`unknown name "${token.text}" (known: ${variables.join(', ')})`);
      }
      const name = token.text;
      return (vars) => vars[name] ?? Number.NaN;
    }
    if (token.text === '(') {
      const inner = or();
      if (!take(')')) throw fail('expected ")"');
      return inner;
    }
    if (token.text === '-') {
      const inner = primary();
      return (vars) => -num(inner, vars);
    }
    if (token.text === '!') {
      const inner = primary();
      return (vars) => !bool(inner, vars);
    }
    index--;
    throw fail(`unexpected "${token.text}"`);
  }
  function product(): Node {
    let left = primary();
    for (;;) {
      const op = peek()?.text;
      if (op !== '*' && op !== '/') return left;
      index++;
      const [l, r] = [left, primary()];
      left = op === '*' ? (v) => num(l, v) * num(r, v) : (v) => num(l, v) / num(r, v);
    }
  }
  function sum(): Node {
    let left = product();
    for (;;) {
      const op = peek()?.text;
      if (op !== '+' && op !== '-') return left;
      index++;
      const [l, r] = [left, product()];
      left = op === '+' ? (v) => num(l, v) + num(r, v) : (v) => num(l, v) - num(r, v);
    }
  }
  const comparisons: Record<string, (a: number, b: number) => boolean> = {
    '<': (a, b) => a < b,
    '<=': (a, b) => a <= b,
    '>': (a, b) => a > b,
    '>=': (a, b) => a >= b,
    '==': (a, b) => a === b,
    '!=': (a, b) => a !== b,
  };
  function comparison(): Node {
    const left = sum();
    const compare = comparisons[peek()?.text ?? ''];
    if (!compare || peek()?.kind !== 'op') return left;
    index++;
    const right = sum();
    return (v) => compare(num(left, v), num(right, v));
  }
  function and(): Node {
    let left = comparison();
    while (take('&&')) {
      const [l, r] = [left, comparison()];
      left = (v) => bool(l, v) && bool(r, v);
    }
    return left;
  }
  function or(): Node {
    let left = and();
    while (take('||')) {
      const [l, r] = [left, and()];
      left = (v) => bool(l, v) || bool(r, v);
    }
    return left;
  }
  const root = or();
  if (index < tokens.length) throw fail(`unexpected "${peek()?.text}"`);
  return root;
}

/** Evaluates a success condition; it must yield true or false. */
export function evaluateCondition(expression: string, vars: Variables): boolean {
  const value = compileExpression(expression, Object.keys(vars))(vars);
  if (typeof value !== 'boolean')
    throw new Error(`successCondition "${expression}" is a number, not a condition`);
  return value;
}
