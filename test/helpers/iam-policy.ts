/**
 * A small evaluator of the Allow statements of a synthesized IAM policy, for template tests: `Ref` and
 * `Fn::GetAtt` are replaced by stable placeholders (`<Id>`, `<Id.Arn>`) and pseudo parameters by fixed
 * values, then actions, resources and the StringEquals / StringLike conditions are matched with IAM's
 * `*` and `?` wildcards. Enough to ask "does this policy allow X on Y", not a full IAM engine: a
 * statement with any other condition operator or a Deny throws, so that nothing is silently allowed.
 */

export const PSEUDO = {
  "AWS::Partition": "aws",
  "AWS::Region": "eu-west-1",
  "AWS::AccountId": "123456789012",
};

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/** Resolves a template value to text with placeholders. */
export function text(value: unknown): string {
  if (typeof value === "string") return value;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === "string") return PSEUDO[v.Ref as keyof typeof PSEUDO] ?? `<${v.Ref}>`;
  const getAtt = v["Fn::GetAtt"] as [string, string] | undefined;
  if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
  const join = v["Fn::Join"] as [string, unknown[]] | undefined;
  if (join) return join[1].map(text).join(join[0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, ignoreCase ? "i" : "").test(value);
}

function conditionsHold(
  condition: Statement["Condition"],
  context: Readonly<Record<string, string>>,
): boolean {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      const actual = context[key];
      if (actual === undefined) return false;
      const values = list(expected).map(text);
      if (operator === "StringEquals" || operator === "ForAllValues:StringEquals") {
        if (!values.includes(actual)) return false;
      } else if (operator === "StringLike") {
        if (!values.some((p) => wildcard(p, actual))) return false;
      } else throw new Error(`condition operator ${operator} is not supported by this evaluator`);
    }
  }
  return true;
}

/** Whether `statements` allow `action` on `resource` in `context` (condition keys to values). */
export function allows(
  statements: readonly Statement[],
  action: string,
  resource: string,
  context: Readonly<Record<string, string>> = {},
): boolean {
  return statements.some((s) => {
    if (s.Effect !== "Allow") throw new Error("Deny statements are not supported by this evaluator");
    const actionMatches = list(s.Action).some((a) => wildcard(String(a), action, true));
    const resourceMatches = list(s.Resource).some((r) => wildcard(text(r), resource));
    return actionMatches && resourceMatches && conditionsHold(s.Condition, context);
  });
}
