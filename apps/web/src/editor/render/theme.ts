/** Colours and thresholds shared by the drawing code. */
export const BACKGROUND = '#f6f7f4';
export const SELECTION = '#1d4ed8';
/** Below this on-screen font size text is not drawn (it cannot be read), only the boxes. */
export const MIN_READABLE_PX = 4;
