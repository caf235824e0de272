import { describe, expect, it } from 'vitest';
import { commandForKey, type KeyInput } from './commands.ts';

const key = (k: string, mods: Partial<KeyInput> = {}): KeyInput => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  shiftKey: false,
  altKey: false,
  ...mods,
});

describe('commandForKey', () => {
  it.each([
    ['Enter', {}, { type: 'addSibling', before: false }],
    ['Enter', { shiftKey: true }, { type: 'addSibling', before: true }],
    ['Tab', {}, { type: 'addChild' }],
    ['Insert', {}, { type: 'addChild' }],
    ['F2', {}, { type: 'edit' }],
    ['Delete', {}, { type: 'remove' }],
    ['Backspace', {}, { type: 'remove' }],
    [' ', {}, { type: 'toggleCollapse' }],
    ['Home', {}, { type: 'selectRoot' }],
    ['ArrowLeft', {}, { type: 'navigate', direction: 'left' }],
    ['ArrowDown', {}, { type: 'navigate', direction: 'down' }],
    ['x', {}, { type: 'edit', initialText: 'x' }],
    ['É', { shiftKey: true }, { type: 'edit', initialText: 'É' }],
  ] as const)('maps %j %j', (k, mods, expected) => {
    expect(commandForKey(key(k, mods), 'other')).toEqual(expected);
  });

  it('uses Ctrl for undo/redo on Windows and Linux, and Cmd on macOS', () => {
    expect(commandForKey(key('z', { ctrlKey: true }), 'other')).toEqual({ type: 'undo' });
    expect(commandForKey(key('y', { ctrlKey: true }), 'other')).toEqual({ type: 'redo' });
    expect(commandForKey(key('Z', { ctrlKey: true, shiftKey: true }), 'other')).toEqual({ type: 'redo' });
    expect(commandForKey(key('z', { metaKey: true }), 'mac')).toEqual({ type: 'undo' });
    expect(commandForKey(key('z', { metaKey: true }), 'other')).toBeNull();
    expect(commandForKey(key('z', { ctrlKey: true }), 'mac')).toBeNull();
  });

  it('zooms with Ctrl/Cmd plus, minus and zero', () => {
    expect(commandForKey(key('=', { ctrlKey: true }), 'other')).toEqual({ type: 'zoomIn' });
    expect(commandForKey(key('-', { metaKey: true }), 'mac')).toEqual({ type: 'zoomOut' });
    expect(commandForKey(key('0', { ctrlKey: true }), 'other')).toEqual({ type: 'zoomToFit' });
  });

  it('leaves Shift+Tab, browser shortcuts, modified letters and IME composition to the browser', () => {
    expect(commandForKey(key('Tab', { shiftKey: true }), 'other')).toBeNull();
    expect(commandForKey(key('l', { ctrlKey: true }), 'other')).toBeNull();
    expect(commandForKey(key('a', { altKey: true }), 'other')).toBeNull();
    expect(commandForKey(key('a', { isComposing: true }), 'other')).toBeNull();
    expect(commandForKey(key('Escape'), 'other')).toBeNull();
    expect(commandForKey(key('F5'), 'other')).toBeNull();
  });
});
