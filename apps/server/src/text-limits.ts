import type { ProfileDocument } from '@prof/format';
import { TEXT_LIMITS } from '@prof/store';
import { HttpError } from './http-error';

const tooLong = (where: string, message: string) => new HttpError(400, 'too-long', `${where}: ${message}`);

function checkText(value: string | null, where: string, max: number): void {
  if (value !== null && value.length > max) throw tooLong(where, `${value.length} characters, at most ${max}`);
}

/**
 * Refuses a document whose text would crowd every listing (a 5 MB project, 100,000 tags), on every
 * upload protocol, after the uploader's overrides are applied: `400 too-long` naming the field.
 */
export function assertTextLimits(doc: ProfileDocument): void {
  const meta = doc.meta;
  checkText(meta.project, 'meta.project', TEXT_LIMITS.project);
  checkText(meta.name, 'meta.name', TEXT_LIMITS.name);
  checkText(meta.host, 'meta.host', TEXT_LIMITS.host);
  checkText(meta.interpreter, 'meta.interpreter', TEXT_LIMITS.interpreter);
  checkText(meta.zone ?? null, 'meta.zone', TEXT_LIMITS.zone);
  const tags = Object.entries(meta.tags);
  if (tags.length > TEXT_LIMITS.tags) throw tooLong('meta.tags', `${tags.length} tags, at most ${TEXT_LIMITS.tags}`);
  for (const [key, value] of tags) {
    checkText(key, 'meta.tags (a key)', TEXT_LIMITS.tagKey);
    checkText(value, `meta.tags.${key}`, TEXT_LIMITS.tagValue);
  }
  const argv = (meta.argv ?? []).reduce((sum, arg) => sum + arg.length, 0);
  if (argv > TEXT_LIMITS.argv) throw tooLong('meta.argv', `${argv} characters in all, at most ${TEXT_LIMITS.argv}`);
}
