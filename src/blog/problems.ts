// Something wrong in a blog's files, located by file and line, so the author can fix it. Errors
// keep the page from being served; warnings are served anyway.
export interface SiteProblem {
  /** Path relative to the blog folder, e.g. content/posts/a.md or templates/post.html. */
  file: string;
  line: number;
  message: string;
  severity: "error" | "warning";
}

export function formatSiteProblem(p: SiteProblem): string {
  return `${p.file}:${p.line}: ${p.message}`;
}

/** Collects problems once each: a broken layout would otherwise be reported for every page. */
export class ProblemList {
  private readonly seen = new Set<string>();
  readonly items: SiteProblem[] = [];

  add(problem: SiteProblem): void {
    const key = `${problem.severity} ${formatSiteProblem(problem)}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.items.push(problem);
  }

  error(file: string, line: number, message: string): void {
    this.add({ file, line, message, severity: "error" });
  }

  warning(file: string, line: number, message: string): void {
    this.add({ file, line, message, severity: "warning" });
  }
}

/** 1-based line of a character offset. */
export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}
