export type Theme = 'light' | 'dark';

/** The theme chosen before, else the system's. */
export function storedTheme(): Theme {
  const saved = localStorage.getItem('cg-theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem('cg-theme', theme);
}
