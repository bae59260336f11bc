import { UsageError } from "../errors/index.js";

/**
 * Method + path-pattern routing (`/api/runs/:id/events`, `/v1/admin/*`). Patterns are matched against the raw
 * (still percent-encoded) path segment by segment, so an encoded `/` inside a parameter stays inside it; each
 * parameter is then decoded with `decodeSegment`, which turns malformed percent-encoding into a 400.
 */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

interface CompiledPattern<T> {
  method: Method;
  pattern: string;
  regex: RegExp;
  names: string[];
  value: T;
}

export type RouteMatch<T> = { value: T; params: Record<string, string>; pattern: string } | { allowed: Method[] } | null;

export class PathRouter<T> {
  private readonly routes: CompiledPattern<T>[] = [];

  add(method: Method, pattern: string, value: T): this {
    const names: string[] = [];
    const source = pattern
      .split("/")
      .map((part) => {
        if (part === "*") {
          names.push("*");
          return "(.*)";
        }
        if (part.startsWith(":")) {
          names.push(part.slice(1));
          return "([^/]+)";
        }
        return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      })
      .join("/");
    this.routes.push({ method, pattern, regex: new RegExp(`^${source}$`), names, value });
    return this;
  }

  /** The first route whose pattern and method match; else the methods the path allows (405), else null (404). */
  match(method: string, rawPath: string): RouteMatch<T> {
    const allowed: Method[] = [];
    for (const route of this.routes) {
      const m = route.regex.exec(rawPath);
      if (!m) continue;
      if (route.method !== method) {
        if (!allowed.includes(route.method)) allowed.push(route.method);
        continue;
      }
      const params = Object.fromEntries(route.names.map((n, i) => [n, decodeSegment(m[i + 1])]));
      return { value: route.value, params, pattern: route.pattern };
    }
    return allowed.length ? { allowed } : null;
  }
}

/** decodeURIComponent that answers malformed input (`%zz`, a lone `%E0`) with a 400 instead of a URIError (500). */
export function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new UsageError("HTTP_BAD_PATH", `the request path has malformed percent-encoding: ${JSON.stringify(raw.slice(0, 200))}`, {
      fix: "percent-encode the path (e.g. encodeURIComponent for each segment): % must be followed by two hex digits of valid UTF-8",
    });
  }
}
