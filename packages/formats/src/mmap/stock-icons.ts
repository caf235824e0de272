/** Stock icon names of pri:IconType (MindManagerPrimitive.xsd), without the `urn:mindjet:` prefix. */
export const MMAP_STOCK_ICONS: readonly string[] = [
  'SmileyHappy',
  'SmileyNeutral',
  'SmileySad',
  'SmileyAngry',
  'SmileyScreaming',
  'Clock',
  'Calendar',
  'Letter',
  'Email',
  'Mailbox',
  'Megaphone',
  'House',
  'Rolodex',
  'Dollar',
  'Euro',
  'FlagRed',
  'FlagBlue',
  'FlagGreen',
  'FlagBlack',
  'FlagOrange',
  'FlagYellow',
  'FlagPurple',
  'TrafficLightsRed',
  'Marker1',
  'Marker2',
  'Marker3',
  'Marker4',
  'Marker5',
  'Marker6',
  'Marker7',
  'Resource1',
  'Resource2',
  'PadlockLocked',
  'PadlockUnlocked',
  'ArrowUp',
  'ArrowRight',
  'TwoEndArrow',
  'Phone',
  'Cellphone',
  'Camera',
  'Fax',
  'Stop',
  'ExclamationMark',
  'QuestionMark',
  'ThumbsUp',
  'OnHold',
  'Hourglass',
  'Emergency',
  'NoEntry',
  'Bomb',
  'Key',
  'Glasses',
  'JudgeHammer',
  'Rocket',
  'Scales',
  'Redo',
  'Lightbulb',
  'CoffeeCup',
  'TwoFeet',
  'Meeting',
  'Check',
  'Note',
  'ThumbsDown',
  'ArrowLeft',
  'ArrowDown',
  'Book',
  'MagnifyingGlass',
  'BrokenConnection',
  'Information',
  'Folder',
];

const kebab = (name: string): string => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();
const BY_CANONICAL = new Map(MMAP_STOCK_ICONS.map((name) => [kebab(name), name]));

/** `urn:mindjet:FlagRed` → `flag-red`; unknown stock icons keep an `mmap:` prefix. */
export function canonicalIconOf(iconType: string): string {
  const name = iconType.replace(/^urn:mindjet:/, '');
  return BY_CANONICAL.has(kebab(name)) ? kebab(name) : `mmap:${name}`;
}

/** `flag-red` → `urn:mindjet:FlagRed`, or undefined when MindManager has no such stock icon. */
export function mmapIconTypeOf(canonical: string): string | undefined {
  const name = BY_CANONICAL.get(canonical);
  return name ? `urn:mindjet:${name}` : undefined;
}
