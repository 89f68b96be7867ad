/** metav1.Time: RFC 3339 in whole seconds, as the API server stores it. */
export const metaTime = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** metav1.MicroTime: RFC 3339 with six fractional digits. */
export const microTime = (date: Date): string => date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
