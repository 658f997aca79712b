/* boot.js - loaded before anything else: every script error and rejected
 * promise of the page is counted on <html data-errors> and listed in #errors,
 * so an operator (and the browser test) sees them on the page itself. */
'use strict';
(function () {
	var count = 0;

	function note(text) {
		var box = document.getElementById('errors');

		count += 1;
		document.documentElement.setAttribute('data-errors', String(count));
		if (box) {
			box.hidden = false;
			box.textContent += text + '\n';
		} else {
			document.addEventListener('DOMContentLoaded', function () { note(text); count -= 1; });
		}
	}
	window.addEventListener('error', function (e) {
		var where = e.filename ? ' (' + e.filename + ':' + e.lineno + ')' : '';
		var what = e.message || (e.target && (e.target.src || e.target.href)) || 'error';

		note('error: ' + what + where);
	}, true);
	window.addEventListener('unhandledrejection', function (e) {
		note('unhandled rejection: ' + (e.reason && e.reason.message ? e.reason.message : e.reason));
	});
	window.scanqNote = note;
})();
