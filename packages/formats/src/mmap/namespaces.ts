export const AP = 'http://schemas.mindjet.com/MindManager/Application/2003';
export const COR = 'http://schemas.mindjet.com/MindManager/Core/2003';
export const PRI = 'http://schemas.mindjet.com/MindManager/Primitive/2003';
export const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
export const XHTML = 'http://www.w3.org/1999/xhtml';
/** Prefix of MindManager's in-archive references (`mmarch://bin/<file>`). */
export const MMARCH = 'mmarch://';
