const monthNames = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const dayNames = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

function dayOfYear(date: Date): number {
  const start = new Date(date.getFullYear(), 0, 1);
  const today = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  return Math.round((today.getTime() - start.getTime()) / 86_400_000) + 1;
}

/**
 * Python's `datetime.strftime` in the C locale, local time — what Hugging Face's `strftime_now` template
 * global returns. Directives: %Y %y %m %d %e %j %H %I %M %S %p %b %B %a %A %%; others stay as written.
 */
export function strftime(date: Date, format: string): string {
  return format.replace(/%([YymdejHIMSpbBaA%])/g, (_, directive: string) => {
    switch (directive) {
      case 'Y':
        return String(date.getFullYear());
      case 'y':
        return pad(date.getFullYear() % 100);
      case 'm':
        return pad(date.getMonth() + 1);
      case 'd':
        return pad(date.getDate());
      case 'e':
        return String(date.getDate()).padStart(2, ' ');
      case 'j':
        return pad(dayOfYear(date), 3);
      case 'H':
        return pad(date.getHours());
      case 'I':
        return pad(date.getHours() % 12 === 0 ? 12 : date.getHours() % 12);
      case 'M':
        return pad(date.getMinutes());
      case 'S':
        return pad(date.getSeconds());
      case 'p':
        return date.getHours() < 12 ? 'AM' : 'PM';
      case 'b':
        return monthNames[date.getMonth()]!.slice(0, 3);
      case 'B':
        return monthNames[date.getMonth()]!;
      case 'a':
        return dayNames[date.getDay()]!.slice(0, 3);
      case 'A':
        return dayNames[date.getDay()]!;
      default:
        return '%';
    }
  });
}
