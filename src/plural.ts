// "1 problem", "2 problems": counts in messages read as words, not "1 problem(s)".
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}
