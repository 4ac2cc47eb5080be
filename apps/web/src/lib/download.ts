// Saves a Blob as a file through a temporary object URL (no inline script, CSP-safe).
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A safe file-name stem from user text. */
export function fileStem(s: string | null | undefined): string {
  return (s ?? 'profile').replace(/[^\w.-]+/g, '_').slice(0, 60) || 'profile';
}
