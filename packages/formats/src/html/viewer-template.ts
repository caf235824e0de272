/**
 * The self-contained HTML5 viewer template. It is data, not code of this package: a later release distributes
 * newer templates as signed packages, so a template is only `{id, version, html}` with two placeholders,
 * `{{TITLE}}` (HTML-escaped text) and `{{MAP_JSON}}` (JSON made safe for a <script type="application/json">).
 * The page makes no network request: the CSP forbids it, images arrive as data: URIs inside the JSON.
 */
export interface HtmlTemplate {
  id: string;
  /** Semantic version of the template; the exporter records it in the page. */
  version: string;
  html: string;
}

const STYLE = `
*{box-sizing:border-box}html,body{margin:0;height:100%;font:14px/1.35 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430;background:#f6f7f9}
#bar{position:fixed;top:0;left:0;right:0;height:44px;display:flex;gap:8px;align-items:center;padding:0 12px;background:#fff;border-bottom:1px solid #dde1e7;z-index:5}
#bar h1{font-size:15px;margin:0 12px 0 0;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:30vw}
#bar button,#bar input{font:inherit;height:30px;border:1px solid #c9ced6;border-radius:6px;background:#fff;padding:0 10px}
#bar input{width:220px}#hits{color:#5b6472;min-width:70px}
#viewport{position:fixed;top:44px;left:0;right:0;bottom:0;overflow:hidden;cursor:grab}#viewport.dragging{cursor:grabbing}
#canvas{position:absolute;left:0;top:0;transform-origin:0 0;padding:40px}
#links{position:absolute;left:0;top:0;overflow:visible;pointer-events:none}
.branch{display:flex;align-items:center}.kids{display:flex;flex-direction:column;gap:6px;margin-left:34px;padding-left:14px;border-left:2px solid #c5ccd6}
.kids.hidden{display:none}
.topic{position:relative;display:inline-flex;flex-direction:column;gap:4px;max-width:320px;margin:3px 0;padding:6px 10px;border:1.5px solid #8896a8;border-radius:8px;background:#fff;box-shadow:0 1px 2px rgba(0,0,0,.06)}
.topic.root{font-size:18px;font-weight:600;padding:10px 16px;border-width:2px}
.topic.hit{outline:3px solid #f5b400}.topic.target{outline:3px solid #2f7de1}
.row{display:flex;gap:6px;align-items:center;flex-wrap:wrap}.text{white-space:pre-wrap;word-break:break-word}
.icons,.tags{font-size:11px;color:#5b6472}.tag{background:#eef1f5;border-radius:4px;padding:0 4px;margin-right:3px}
.topic img{max-width:200px;max-height:160px;border-radius:4px}
.toggle{font:12px system-ui;min-width:22px;height:20px;border:1px solid #8896a8;border-radius:10px;background:#fff;cursor:pointer;padding:0 6px;margin-left:-6px;margin-right:4px}
.note-btn,.link{font-size:12px;border:0;background:#eef1f5;border-radius:4px;padding:1px 6px;cursor:pointer;color:#1d4f91;text-decoration:none}
.floating{margin-top:40px;display:flex;flex-direction:column;gap:20px}
#popup{position:fixed;inset:0;background:rgba(20,25,35,.35);display:none;align-items:center;justify-content:center;z-index:10}
#popup.open{display:flex}#popup .card{background:#fff;border-radius:10px;max-width:min(640px,90vw);max-height:80vh;overflow:auto;padding:18px 22px;box-shadow:0 10px 40px rgba(0,0,0,.25)}
#popup h2{font-size:16px;margin:0 0 10px}#popup .close{float:right}
@media print{#bar,#popup{display:none!important}#viewport{position:static;overflow:visible}#canvas{position:static;transform:none!important}.kids.hidden{display:flex}.toggle{display:none}}
`;

const SCRIPT = `
(function(){
var data=JSON.parse(document.getElementById('canopy-map').textContent);
var doc=data.document,images=data.images||{};
var scale=1,tx=0,ty=0,svg=null;
var byId={},parentOf={},nodes={};
function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;if(text!=null)e.textContent=text;return e;}
function kidsOf(t){return t.children.concat((t.summaries||[]).map(function(s){return s.topic;}));}
function count(t){var k=kidsOf(t),n=k.length;k.forEach(function(c){n+=count(c);});return n;}
function index(t,p){byId[t.id]=t;if(p)parentOf[t.id]=p.id;t.children.forEach(function(c){index(c,t);});(t.summaries||[]).forEach(function(s){index(s.topic,t);});}
index(doc.root,null);doc.floating.forEach(function(f){index(f,null);});
var popup=document.getElementById('popup'),popupBody=document.getElementById('popup-body'),popupTitle=document.getElementById('popup-title');
function openNote(t){popupTitle.textContent=t.text;popupBody.innerHTML=t.notesHtml;popup.classList.add('open');}
document.getElementById('popup-close').onclick=function(){popup.classList.remove('open');};
popup.onclick=function(e){if(e.target===popup)popup.classList.remove('open');};
function setCollapsed(id,collapsed){var n=nodes[id];if(!n||!n.kids)return;n.kids.classList.toggle('hidden',collapsed);n.toggle.textContent=collapsed?'+'+count(byId[id]):'\\u2212';n.toggle.setAttribute('aria-expanded',String(!collapsed));n.toggle.title=collapsed?count(byId[id])+' hidden':'collapse';drawLinks();}
function reveal(id){var p=parentOf[id];while(p){setCollapsed(p,false);p=parentOf[p];}}
function goTo(id){reveal(id);var n=nodes[id];if(!n)return;document.querySelectorAll('.target').forEach(function(e){e.classList.remove('target');});n.box.classList.add('target');center(n.box);}
function render(t,isRoot){
  var branch=el('div','branch'),box=el('div','topic'+(isRoot?' root':''));box.dataset.id=t.id;
  var st=t.style||{};if(st.fillColor)box.style.background=st.fillColor;if(st.lineColor)box.style.borderColor=st.lineColor;if(st.textColor)box.style.color=st.textColor;if(st.bold)box.style.fontWeight='700';if(st.italic)box.style.fontStyle='italic';
  if(t.image&&images[t.image.ref]){var img=el('img');img.src=images[t.image.ref];img.alt='';box.appendChild(img);}
  var row=el('div','row');
  if(t.richText&&t.richText.length){var span=el('span','text');t.richText.forEach(function(r){var s=el('span',null,r.text);if(r.bold)s.style.fontWeight='700';if(r.italic)s.style.fontStyle='italic';if(r.underline||r.strike)s.style.textDecoration=(r.underline?'underline ':'')+(r.strike?'line-through':'');if(r.color)s.style.color=r.color;span.appendChild(s);});row.appendChild(span);}
  else row.appendChild(el('span','text',t.text));
  if(t.notesHtml){var nb=el('button','note-btn','\\u270e note');nb.type='button';nb.title='Show note';nb.onclick=function(e){e.stopPropagation();openNote(t);};row.appendChild(nb);}
  (t.links||[]).forEach(function(l){if(l.kind==='url'&&/^(https?:|mailto:)/i.test(l.url)){var a=el('a','link','\\u2197 '+(l.title||l.url));a.href=l.url;a.target='_blank';a.rel='noopener noreferrer';row.appendChild(a);}else if(l.kind==='topic'&&byId[l.topicId]){var b=el('button','link','\\u2192 '+(l.title||byId[l.topicId].text));b.type='button';b.onclick=function(e){e.stopPropagation();goTo(l.topicId);};row.appendChild(b);}});
  box.appendChild(row);
  var extra=[];(t.icons||[]).forEach(function(i){extra.push(i);});if(t.task&&t.task.priority)extra.push('priority '+t.task.priority);if(t.task&&t.task.progress!=null)extra.push(t.task.progress+'%');
  if(extra.length)box.appendChild(el('div','icons',extra.join(' \\u00b7 ')));
  if(t.tags&&t.tags.length){var tags=el('div','tags');t.tags.forEach(function(g){tags.appendChild(el('span','tag',g));});box.appendChild(tags);}
  if(t.attachments&&t.attachments.length)box.appendChild(el('div','icons','\\ud83d\\udcce '+t.attachments.map(function(a){return a.name;}).join(', ')));
  branch.appendChild(box);var n={box:box};nodes[t.id]=n;
  var kidsList=kidsOf(t);
  if(kidsList.length){var tg=el('button','toggle');tg.type='button';n.toggle=tg;tg.onclick=function(e){e.stopPropagation();setCollapsed(t.id,!n.kids.classList.contains('hidden'));};branch.appendChild(tg);
    var kids=el('div','kids');n.kids=kids;kidsList.forEach(function(c){kids.appendChild(render(c,false));});branch.appendChild(kids);}
  return branch;}
var canvas=document.getElementById('canvas'),viewport=document.getElementById('viewport');
canvas.appendChild(render(doc.root,true));
if(doc.floating.length){var fl=el('div','floating');doc.floating.forEach(function(f){fl.appendChild(render(f,false));});canvas.appendChild(fl);}
Object.keys(nodes).forEach(function(id){if(nodes[id].kids)setCollapsed(id,!!byId[id].collapsed);});
var svgNS='http://www.w3.org/2000/svg';svg=document.createElementNS(svgNS,'svg');svg.id='links';canvas.appendChild(svg);
function drawLinks(){if(!svg)return;while(svg.firstChild)svg.removeChild(svg.firstChild);var cr=canvas.getBoundingClientRect();svg.setAttribute('width',canvas.scrollWidth);svg.setAttribute('height',canvas.scrollHeight);
  (doc.relationships||[]).forEach(function(r){var a=nodes[r.fromId],b=nodes[r.toId];if(!a||!b||!a.box.offsetParent||!b.box.offsetParent)return;var ra=a.box.getBoundingClientRect(),rb=b.box.getBoundingClientRect();
    var x1=(ra.left+ra.width/2-cr.left)/scale,y1=(ra.top+ra.height/2-cr.top)/scale,x2=(rb.left+rb.width/2-cr.left)/scale,y2=(rb.top+rb.height/2-cr.top)/scale;
    var p=document.createElementNS(svgNS,'path');p.setAttribute('d','M'+x1+' '+y1+' C'+(x1+80)+' '+(y1-60)+' '+(x2+80)+' '+(y2-60)+' '+x2+' '+y2);p.setAttribute('fill','none');p.setAttribute('stroke',r.color||'#d0573f');p.setAttribute('stroke-width','1.5');if(r.dashed)p.setAttribute('stroke-dasharray','5 4');svg.appendChild(p);
    if(r.label){var tx=document.createElementNS(svgNS,'text');tx.setAttribute('x',(x1+x2)/2+40);tx.setAttribute('y',(y1+y2)/2-40);tx.setAttribute('font-size','12');tx.setAttribute('fill',r.color||'#d0573f');tx.textContent=r.label;svg.appendChild(tx);}});}
function apply(){canvas.style.transform='translate('+tx+'px,'+ty+'px) scale('+scale+')';}
function zoom(f,cx,cy){var ns=Math.min(4,Math.max(0.15,scale*f));cx=cx==null?viewport.clientWidth/2:cx;cy=cy==null?viewport.clientHeight/2:cy;tx=cx-(cx-tx)*ns/scale;ty=cy-(cy-ty)*ns/scale;scale=ns;apply();}
function fit(){var w=canvas.scrollWidth,h=canvas.scrollHeight;scale=Math.min(1.5,Math.max(0.15,Math.min(viewport.clientWidth/w,viewport.clientHeight/h)));tx=(viewport.clientWidth-w*scale)/2;ty=Math.max(0,(viewport.clientHeight-h*scale)/2);apply();}
function center(box){var r=box.getBoundingClientRect(),v=viewport.getBoundingClientRect();tx+=v.left+v.width/2-(r.left+r.width/2);ty+=v.top+v.height/2-(r.top+r.height/2);apply();}
viewport.addEventListener('wheel',function(e){e.preventDefault();var v=viewport.getBoundingClientRect();zoom(e.deltaY<0?1.1:1/1.1,e.clientX-v.left,e.clientY-v.top);},{passive:false});
var drag=null;viewport.addEventListener('pointerdown',function(e){if(e.target.closest('button,a,input'))return;drag={x:e.clientX-tx,y:e.clientY-ty};viewport.classList.add('dragging');});
window.addEventListener('pointermove',function(e){if(!drag)return;tx=e.clientX-drag.x;ty=e.clientY-drag.y;apply();});
window.addEventListener('pointerup',function(){drag=null;viewport.classList.remove('dragging');});
document.getElementById('zoom-in').onclick=function(){zoom(1.2);};document.getElementById('zoom-out').onclick=function(){zoom(1/1.2);};document.getElementById('fit').onclick=fit;
document.getElementById('print').onclick=function(){window.print();};
document.getElementById('expand-all').onclick=function(){Object.keys(nodes).forEach(function(id){setCollapsed(id,false);});};
var search=document.getElementById('search'),hits=document.getElementById('hits');
search.addEventListener('input',function(){var q=search.value.trim().toLowerCase();var found=[];document.querySelectorAll('.hit').forEach(function(e){e.classList.remove('hit');});
  if(q){Object.keys(byId).forEach(function(id){var t=byId[id];var hay=(t.text+' '+(t.notesHtml||'').replace(/<[^>]*>/g,' ')+' '+(t.tags||[]).join(' ')).toLowerCase();if(hay.indexOf(q)>=0){found.push(id);reveal(id);nodes[id].box.classList.add('hit');}});if(found.length)center(nodes[found[0]].box);}
  hits.textContent=q?found.length+' found':'';});
window.addEventListener('keydown',function(e){if(e.key==='Escape')popup.classList.remove('open');});
fit();drawLinks();window.canopyViewerReady=true;
})();
`;

export const DEFAULT_HTML_TEMPLATE: HtmlTemplate = {
  id: 'canopy-viewer',
  version: '1.0.0',
  html: `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{TEMPLATE_ID}} {{TEMPLATE_VERSION}}">
<title>{{TITLE}}</title><style>${STYLE}</style></head>
<body>
<div id="bar"><h1>{{TITLE}}</h1><button id="zoom-out" type="button" title="Zoom out">\u2212</button><button id="zoom-in" type="button" title="Zoom in">+</button><button id="fit" type="button">Fit</button><button id="expand-all" type="button">Expand all</button><input id="search" type="search" placeholder="Search topics and notes"><span id="hits"></span><button id="print" type="button">Print</button></div>
<div id="viewport"><div id="canvas"></div></div>
<div id="popup" role="dialog" aria-modal="true"><div class="card"><button id="popup-close" class="close" type="button">Close</button><h2 id="popup-title"></h2><div id="popup-body"></div></div></div>
<script type="application/json" id="canopy-map">{{MAP_JSON}}</script>
<script>${SCRIPT}</script>
</body></html>
`,
};
