/*
 * healthbot chat widget. Embed with one tag:
 *
 *   <script src="https://BOT-HOST/healthbot-widget.js" defer></script>
 *
 * and optionally <div id="healthbot-widget"></div> where the chat should
 * sit; without one, a "Health questions?" button opens it as a panel.
 * Options, as attributes on the script tag: data-server="wss://host" (the
 * bot, default: where this script came from), data-target="#css-selector".
 *
 * No third-party requests, no cookies, no storage. Text a patient types is
 * only ever set as textContent; reply HTML (built and escaped by the bot)
 * is filtered to a few formatting tags before it is inserted.
 */
(function () {
	'use strict';

	var script = document.currentScript;
	if (!script || window.healthbotWidgetLoaded)
		return;
	window.healthbotWidgetLoaded = true;

	var base = new URL(script.src, document.baseURI);
	var server = script.getAttribute('data-server');
	/* relative, so a bot behind a path prefix (/healthbot/) works too */
	var wsUrl = new URL('chat', server ? new URL(server, base) : base);
	wsUrl.protocol = wsUrl.protocol === 'https:' || wsUrl.protocol === 'wss:' ?
		'wss:' : 'ws:';

	var BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
	var IDLE_CLOSE = 4000;
	/* close codes 4400-4499: the bot refuses this page for good (the 4xx
	 * of HTTP, moved into the private range: a browser hides the status
	 * of a refused handshake, so the bot lets the page in and closes with
	 * 4403 when its origin is not allowed); never retried by itself. A
	 * handshake that fails is busy, draining or the network: retried. */
	var REFUSED_MIN = 4400, REFUSED_MAX = 4499;
	var MAX_CHARS = 2000;
	var MAX_BYTES = 3800; /* of text, leaving room for the JSON around it */

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls)
			e.className = cls;
		if (text !== undefined)
			e.textContent = text;
		return e;
	}

	/* Reply HTML comes from the bot already escaped; keep only formatting
	 * anyway, so a portal without a strict CSP is safe too. */
	var ALLOWED = { P: 1, UL: 1, OL: 1, LI: 1, STRONG: 1, EM: 1, B: 1, I: 1,
		BR: 1, A: 1, H3: 1, H4: 1 };
	function cleanInto(target, html, skipClass) {
		var doc = new DOMParser().parseFromString(html, 'text/html');
		(function copy(from, to) {
			for (var n = from.firstChild; n; n = n.nextSibling) {
				if (n.nodeType === 1 && skipClass && n.classList.contains(skipClass)) {
					continue;
				} else if (n.nodeType === 3) {
					to.appendChild(document.createTextNode(n.nodeValue));
				} else if (n.nodeType === 1 && ALLOWED[n.tagName]) {
					var e = document.createElement(n.tagName);
					var cls = n.getAttribute('class');
					if (cls && /^hb-[a-z-]+$/.test(cls))
						e.className = cls;
					var href = n.tagName === 'A' && n.getAttribute('href');
					if (href && /^(https?:|tel:|mailto:)/i.test(href)) {
						e.setAttribute('href', href);
						e.setAttribute('rel', 'noopener noreferrer');
						e.setAttribute('target', '_blank');
					}
					copy(n, e);
					to.appendChild(e);
				} else if (n.nodeType === 1) {
					copy(n, to); /* drop the tag, keep its text */
				}
			}
		})(doc.body, target);
	}

	/* ---- the DOM ---- */

	var target = script.getAttribute('data-target');
	var host = target ? document.querySelector(target) :
		document.getElementById('healthbot-widget');
	var floating = !host;
	if (!document.querySelector('link[data-healthbot-widget]')) {
		var css = document.createElement('link');
		css.rel = 'stylesheet';
		css.href = new URL('healthbot-widget.css', base).href;
		css.setAttribute('data-healthbot-widget', '');
		document.head.appendChild(css);
	}

	var root = el('section', 'hb-widget' + (floating ? ' hb-floating' : ''));
	root.setAttribute('aria-label', 'Health assistant chat');
	var header = el('div', 'hb-header');
	header.appendChild(el('h2', 'hb-title', 'Health assistant'));
	var status = el('p', 'hb-status', 'Connecting…');
	status.setAttribute('role', 'status');
	header.appendChild(status);
	root.appendChild(header);
	root.appendChild(el('p', 'hb-note', 'General information, not medical ' +
		'advice. In an emergency, call your local emergency number now.'));
	/*
	 * The emergency banner, pinned above the transcript. Its message is the
	 * one live region that announces an escalation (role="alert"); after
	 * the patient's next message it folds to one line with the numbers as
	 * links, so a small screen keeps room for the conversation.
	 */
	var alertBox = el('div', 'hb-alert');
	alertBox.hidden = true;
	var alertMsg = el('div', 'hb-alert-msg');
	alertMsg.setAttribute('role', 'alert');
	alertMsg.id = 'hb-alert-' + Math.random().toString(36).slice(2);
	alertBox.appendChild(alertMsg);
	var alertLine = el('p', 'hb-alert-line');
	alertLine.hidden = true;
	var alertNumbers = el('span', 'hb-alert-numbers');
	alertLine.appendChild(alertNumbers);
	var alertToggle = el('button', 'hb-alert-toggle', 'Show message');
	alertToggle.type = 'button';
	alertToggle.setAttribute('aria-controls', alertMsg.id);
	alertToggle.setAttribute('aria-expanded', 'true');
	alertLine.appendChild(alertToggle);
	alertBox.appendChild(alertLine);
	root.appendChild(alertBox);
	var offline = el('div', 'hb-offline');
	offline.hidden = true;
	var offlineText = el('p', 'hb-offline-text', '');
	offline.appendChild(offlineText);
	var retry = el('button', 'hb-retry', 'Try again');
	retry.type = 'button';
	retry.hidden = true;
	offline.appendChild(retry);
	root.appendChild(offline);
	var log = el('div', 'hb-log');
	log.setAttribute('role', 'log');
	log.setAttribute('aria-live', 'polite');
	log.setAttribute('aria-label', 'Conversation');
	log.tabIndex = 0;
	root.appendChild(log);
	var typing = el('p', 'hb-typing', 'The assistant is typing…');
	typing.setAttribute('aria-hidden', 'true');
	typing.hidden = true;
	root.appendChild(typing);
	var form = el('form', 'hb-form');
	var label = el('label', 'hb-visually-hidden', 'Your question');
	var input = el('textarea', 'hb-input');
	input.id = 'hb-input-' + Math.random().toString(36).slice(2);
	label.htmlFor = input.id;
	input.rows = 2;
	input.maxLength = MAX_CHARS;
	input.placeholder = 'Ask a health question…';
	input.setAttribute('autocomplete', 'off');
	var send = el('button', 'hb-send', 'Send');
	send.type = 'submit';
	form.appendChild(label);
	form.appendChild(input);
	form.appendChild(send);
	root.appendChild(form);

	if (floating) {
		var launcher = el('button', 'hb-launcher', 'Health questions?');
		launcher.type = 'button';
		launcher.setAttribute('aria-expanded', 'false');
		root.hidden = true;
		root.id = 'hb-panel-' + Math.random().toString(36).slice(2);
		launcher.setAttribute('aria-controls', root.id);
		var toggle = function (open) {
			root.hidden = !open;
			launcher.setAttribute('aria-expanded', String(open));
			if (open) {
				connect();
				input.focus();
			}
		};
		launcher.addEventListener('click', function () {
			toggle(root.hidden);
		});
		/* Escape closes the panel and gives focus back to its button */
		root.addEventListener('keydown', function (ev) {
			if (ev.key === 'Escape') {
				toggle(false);
				launcher.focus();
			}
		});
		document.body.appendChild(launcher);
		document.body.appendChild(root);
	} else {
		host.appendChild(root);
	}

	function scrollDown() {
		log.scrollTop = log.scrollHeight;
	}

	function addUser(text) {
		var m = el('div', 'hb-msg hb-user');
		m.appendChild(el('span', 'hb-visually-hidden', 'You: '));
		m.appendChild(el('div', 'hb-body', text)); /* text only, never HTML */
		log.appendChild(m);
		scrollDown();
		return m;
	}

	function addNote(text, cls) {
		var m = el('p', 'hb-msg hb-system' + (cls ? ' ' + cls : ''), text);
		log.appendChild(m);
		scrollDown();
	}

	function sourceLine(src) {
		var parts = [src.title, src.publisher].filter(Boolean).join(', ');
		if (src.updated)
			parts += ' (updated ' + src.updated + ')';
		return 'Source: ' + parts;
	}

	/*
	 * Phone numbers to call, as tel: links. The numbers are the bot's
	 * configuration, never the page's: those a frame names in `numbers`
	 * ({"emergency": "911", "crisis": "988"}), or given to the script as
	 * data-emergency-number / data-crisis-number; without either, the digit
	 * runs of an escalation's first paragraph, which is the bot's service
	 * wording with its configured numbers filled in.
	 */
	var PHONE = /\+?\d(?:[\d -]*\d)?/g;
	var knownNumbers = ['data-emergency-number', 'data-crisis-number']
		.map(function (a) { return script.getAttribute(a); })
		.filter(function (n) { return n && /\d/.test(n); });

	function digits(s) {
		return s.replace(/[^\d+]/g, '');
	}

	function learnNumbers(frame) {
		var n = frame.numbers;
		if (!n || typeof n !== 'object')
			return;
		Object.keys(n).forEach(function (k) {
			if (typeof n[k] === 'string' && /\d/.test(n[k]) &&
					knownNumbers.indexOf(n[k]) < 0)
				knownNumbers.push(n[k]);
		});
	}

	function isNumber(run) {
		if (!knownNumbers.length)
			return digits(run).replace('+', '').length >= 2;
		return knownNumbers.some(function (k) {
			return digits(k) === digits(run);
		});
	}

	/* Turns the numbers in the text nodes under node into tel: links. */
	function linkNumbers(node) {
		var texts = [];
		var walk = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
		while (walk.nextNode()) {
			if (!walk.currentNode.parentNode.closest('a'))
				texts.push(walk.currentNode);
		}
		texts.forEach(function (t) {
			var s = t.nodeValue, at = 0, m, frag = null;
			PHONE.lastIndex = 0;
			while ((m = PHONE.exec(s))) {
				if (!isNumber(m[0]))
					continue;
				frag = frag || document.createDocumentFragment();
				frag.appendChild(document.createTextNode(s.slice(at, m.index)));
				var a = el('a', 'hb-tel', m[0]);
				a.href = 'tel:' + digits(m[0]);
				frag.appendChild(a);
				at = m.index + m[0].length;
			}
			if (frag) {
				frag.appendChild(document.createTextNode(s.slice(at)));
				t.parentNode.replaceChild(frag, t);
			}
		});
	}

	function linkEscalation(body) {
		if (knownNumbers.length || !body.firstElementChild) {
			linkNumbers(body);
			return;
		}
		/* the service wording comes first; an article's passage may
		 * follow (from its hb- heading or source on), and its digits are
		 * not phone numbers */
		for (var n = body.firstElementChild; n; n = n.nextElementSibling) {
			if (/(^| )hb-/.test(n.className))
				break;
			linkNumbers(n);
		}
	}

	function setAlertExpanded(open) {
		alertMsg.hidden = !open;
		alertNumbers.hidden = open;
		alertToggle.textContent = open ? 'Hide message' : 'Show message';
		alertToggle.setAttribute('aria-expanded', String(open));
	}

	/* after its first view the banner folds to one line with the numbers */
	function foldAlert() {
		if (alertBox.hidden || !alertLine.hidden)
			return;
		alertLine.hidden = false;
		alertBox.classList.add('hb-folded');
		setAlertExpanded(false);
	}

	function showAlert(frame) {
		alertMsg.textContent = '';
		cleanInto(alertMsg, frame.html || '');
		if (!alertMsg.firstChild)
			alertMsg.textContent = frame.text || '';
		linkEscalation(alertMsg);
		alertNumbers.textContent = '';
		var links = alertMsg.querySelectorAll('a.hb-tel');
		var seen = {};
		for (var i = 0; i < links.length; i++) {
			var href = links[i].getAttribute('href');
			if (seen[href])
				continue;
			seen[href] = true;
			alertNumbers.appendChild(document.createTextNode(
				alertNumbers.firstChild ? ' or ' : 'Call '));
			alertNumbers.appendChild(links[i].cloneNode(true));
		}
		alertNumbers.appendChild(document.createTextNode(' '));
		alertLine.hidden = true;
		alertBox.classList.remove('hb-folded');
		setAlertExpanded(true);
		alertBox.hidden = false;
	}

	alertToggle.addEventListener('click', function () {
		setAlertExpanded(alertMsg.hidden);
	});

	function addBot(frame) {
		var escalation = frame.kind === 'escalation';
		learnNumbers(frame);
		var m = el('div', 'hb-msg hb-bot' + (escalation ? ' hb-escalation' : ''));
		m.appendChild(el('span', 'hb-visually-hidden', 'Assistant: '));
		var body = el('div', 'hb-body');
		var hasSource = frame.source && frame.source.title;
		/* the source line is built from frame.source below, once */
		cleanInto(body, frame.html || '', hasSource ? 'hb-source' : null);
		if (!body.firstChild)
			body.textContent = frame.text || '';
		m.appendChild(body);
		if (hasSource)
			m.appendChild(el('p', 'hb-source', sourceLine(frame.source)));
		if (escalation) {
			linkEscalation(body);
			/* The banner announces it (role="alert"); the live log must
			 * not say it a second time. Its links stay clickable; the
			 * keyboard reaches the same ones in the banner. */
			m.setAttribute('aria-hidden', 'true');
			var copies = body.querySelectorAll('a');
			for (var i = 0; i < copies.length; i++)
				copies[i].tabIndex = -1;
		}
		log.appendChild(m);
		if (escalation)
			showAlert(frame);
		scrollDown();
	}

	/* ---- the connection ---- */

	var ws = null;
	var attempt = 0;
	var timer = null;
	var paused = false;    /* closed for inactivity: wait for the patient */
	var refused = false;   /* the bot will not serve this page */
	var nextId = 1;
	var outbox = [];       /* {id, text, node} not yet answered */

	function setStatus(text, state) {
		status.textContent = text;
		root.setAttribute('data-state', state);
	}

	function showOffline(text, canRetry) {
		offlineText.textContent = text;
		retry.hidden = !canRetry;
		offline.hidden = !text;
	}

	function setRefused(on) {
		refused = on;
		input.disabled = on;
		send.disabled = on;
	}

	/* Service wording only: the page is not allowed to use this bot. */
	function refuse() {
		setRefused(true);
		typing.hidden = true;
		setStatus('Not available', 'refused');
		showOffline('This chat is not available on this page. In an ' +
			'emergency, call your local emergency number.', true);
	}

	function transmit(item) {
		item.sent = true;
		ws.send(JSON.stringify({ type: 'message', id: item.id, text: item.text }));
		typing.hidden = false;
	}

	function connect() {
		if (ws || timer)
			return;
		paused = false;
		if (!refused)
			setStatus(attempt ? 'Reconnecting…' : 'Connecting…', 'connecting');
		var sock;
		try {
			sock = new WebSocket(wsUrl.href);
		} catch (e) {
			scheduleReconnect();
			return;
		}
		ws = sock;
		sock.onopen = function () {
			attempt = 0;
			setRefused(false);
			setStatus('Connected', 'online');
			showOffline('');
			outbox.forEach(function (item) {
				if (item.node)
					item.node.classList.remove('hb-waiting');
				transmit(item);
			});
		};
		sock.onmessage = function (ev) {
			var f;
			try {
				f = JSON.parse(ev.data);
			} catch (e) {
				return;
			}
			receive(f);
		};
		sock.onclose = function (ev) {
			if (ws !== sock)
				return;
			ws = null;
			typing.hidden = true;
			outbox.forEach(function (item) {
				item.sent = false;
				if (item.node)
					item.node.classList.add('hb-waiting');
			});
			if (ev.code === IDLE_CLOSE) {
				paused = true;
				setStatus('Paused', 'paused');
				showOffline('The chat paused after a while without messages. ' +
					'It reconnects when you type.');
				return;
			}
			/* "Try again" on a refused page that fails to connect: it
			 * stays refused, and the button is there for another try */
			if (refused || (ev.code >= REFUSED_MIN && ev.code <= REFUSED_MAX)) {
				refuse();
				return;
			}
			scheduleReconnect();
		};
	}

	function scheduleReconnect() {
		var base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
		var delay = Math.round(base * (0.8 + Math.random() * 0.4));
		attempt++;
		setStatus('Offline', 'offline');
		showOffline('Offline: reconnecting in ' + Math.ceil(delay / 1000) +
			' s. What you type is kept and sent when the chat is back.');
		timer = setTimeout(function () {
			timer = null;
			connect();
		}, delay);
	}

	function take(id) {
		for (var i = 0; i < outbox.length; i++) {
			if (outbox[i].id === id)
				return outbox.splice(i, 1)[0];
		}
		return null;
	}

	function receive(f) {
		if (f.type === 'greeting') {
			if (!log.querySelector('.hb-bot'))
				addBot(f);
		} else if (f.type === 'typing') {
			typing.hidden = false;
		} else if (f.type === 'reply') {
			take(f.in_reply_to);
			typing.hidden = outbox.some(function (i) { return i.sent; }) ? false : true;
			addBot(f);
		} else if (f.type === 'error') {
			var item = f.in_reply_to ? take(f.in_reply_to) : null;
			typing.hidden = true;
			addNote(f.message || 'Something went wrong.', 'hb-error');
			/* a message the bot refused goes back in the box, unless the
			 * patient is already typing something else */
			if (item && !input.value)
				input.value = item.text;
		}
	}

	retry.addEventListener('click', function () {
		clearTimeout(timer);
		timer = null;
		connect();
	});

	form.addEventListener('submit', function (ev) {
		ev.preventDefault();
		var text = input.value.trim();
		if (!text)
			return;
		/* the server takes 4 KiB frames; keep the text rather than lose it */
		if (new TextEncoder().encode(text).length > MAX_BYTES) {
			addNote('That message is too long. Please shorten it and send ' +
				'it again.', 'hb-error');
			return;
		}
		foldAlert();
		var item = { id: 'm' + nextId++, text: text, sent: false };
		item.node = addUser(text);
		outbox.push(item);
		input.value = '';
		if (ws && ws.readyState === WebSocket.OPEN) {
			transmit(item);
		} else {
			item.node.classList.add('hb-waiting');
			if (paused)
				connect();
		}
	});

	input.addEventListener('keydown', function (ev) {
		/* Enter sends, Shift+Enter starts a new line */
		if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
			ev.preventDefault();
			if (typeof form.requestSubmit === 'function')
				form.requestSubmit();
			else
				send.click();
		}
	});

	input.addEventListener('input', function () {
		if (paused)
			connect();
	});

	if (!floating)
		connect();
})();
