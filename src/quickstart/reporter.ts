/**
 * How the quickstart talks to whoever runs it. The library never prints; the CLI maps these calls onto its
 * Output (headings and lines on stdout, progress bars on stderr), a test records them.
 */
export interface QuickstartProgress {
  tick(done: number, fields?: Record<string, string | number>): void;
  done(message?: string): void;
}

export interface QuickstartReporter {
  /** A numbered stage heading ("3/9 clean"). */
  step(title: string): void;
  /** One line of what happened. */
  line(text: string): void;
  /** A live progress bar. */
  progress(options: { total: number; label: string }): QuickstartProgress;
}

/** Records everything (tests, --json): lines and headings in order, progress as its final tick. */
export class RecordingReporter implements QuickstartReporter {
  readonly lines: string[] = [];

  step(title: string): void {
    this.lines.push(`== ${title}`);
  }

  line(text: string): void {
    this.lines.push(text);
  }

  progress(options: { total: number; label: string }): QuickstartProgress {
    let last = 0;
    return {
      tick: (done) => {
        last = done;
      },
      done: (message) => {
        this.lines.push(`${options.label}: ${last}/${options.total}${message ? ` ${message}` : ""}`);
      },
    };
  }
}
