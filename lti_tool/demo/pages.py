"""The demo LMS's HTML: a course page, a launch frame, and the auto-submitting forms of LTI.

Kept as Jinja strings inside the package so the wheel needs no extra package data.
"""

from __future__ import annotations

from typing import Final

STYLE: Final = """
:root { --ink:#1f2933; --muted:#5b6675; --line:#e1e5ea; --brand:#3454d1; --brand-dark:#2640a8;
        --bg:#f4f6f9; --top:#1e2a3b; --ok:#0f6b43; --radius:8px; }
* { box-sizing:border-box; }
body { margin:0; font:15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color:var(--ink);
       background:var(--bg); }
a { color:var(--brand); text-underline-offset:.15em; }
a:hover { color:var(--brand-dark); }
:focus-visible { outline:3px solid var(--brand); outline-offset:2px; }
.skip { position:absolute; left:-999px; }
.skip:focus { left:.5rem; top:.5rem; z-index:5; background:#fff; padding:.4rem .8rem; border-radius:6px; }

/* Top bar and course navigation: the LMS's own chrome, visibly not Cadre's. */
header.lms { background:var(--top); color:#fff; padding:0 1.25rem; min-height:3.25rem; display:flex;
             align-items:center; gap:1rem; }
header.lms a { color:#fff; text-decoration:none; }
.lms-brand { display:inline-flex; align-items:center; gap:.6rem; font-weight:700; letter-spacing:.01em; }
.lms-logo { display:inline-grid; place-items:center; width:1.9rem; height:1.9rem; border-radius:8px;
            background:linear-gradient(135deg, #5b7cfa, #3454d1); font-size:.95rem; }
.lms-top-note { margin-left:auto; font-size:.8rem; color:#c9d3e0; border:1px solid #4a5a72;
                border-radius:99px; padding:.1rem .6rem; white-space:nowrap; }
.shell { display:grid; grid-template-columns:13rem minmax(0, 1fr); min-height:calc(100vh - 3.25rem); }
.course-nav { background:#fff; border-right:1px solid var(--line); padding:1.25rem .75rem; }
.course-nav .code { margin:0 .6rem .15rem; font-size:.75rem; font-weight:700; letter-spacing:.06em;
                    text-transform:uppercase; color:var(--muted); }
.course-nav .name { margin:0 .6rem 1rem; font-weight:600; line-height:1.3; }
.course-nav ul { list-style:none; margin:0; padding:0; }
.course-nav a { display:block; padding:.45rem .6rem; border-radius:6px; color:var(--ink);
                text-decoration:none; border-left:3px solid transparent; }
.course-nav a:hover { background:var(--bg); }
.course-nav a[aria-current] { background:#eef2ff; border-left-color:var(--brand); color:var(--brand-dark);
                              font-weight:600; }
main { padding:1.5rem 2rem 2.5rem; max-width:72rem; width:100%; }
@media (max-width:60rem) {
  .shell { grid-template-columns:1fr; grid-template-rows:auto 1fr; }
  .course-nav { border-right:0; border-bottom:1px solid var(--line); padding:.4rem 1rem; display:flex;
                align-items:center; gap:.25rem 1rem; flex-wrap:wrap; }
  .course-nav .code, .course-nav .name { display:none; }
  .course-nav ul { display:flex; gap:.25rem; flex-wrap:wrap; }
  .course-nav a { border-left:0; border-bottom:3px solid transparent; border-radius:0; }
  .course-nav a[aria-current] { background:none; border-bottom-color:var(--brand); }
  main { padding:1rem 1rem 2rem; }
}

.crumbs { font-size:.85rem; color:var(--muted); margin:0 0 .75rem; }
.crumbs a { color:var(--muted); }
.crumbs span[aria-current] { color:var(--ink); }
.card { background:#fff; border:1px solid var(--line); border-radius:var(--radius); padding:1.25rem 1.5rem;
        margin-bottom:1.25rem; box-shadow:0 1px 2px rgba(16,24,40,.05); }
.banner { border-top:5px solid var(--brand); }
.eyebrow { margin:0; font-size:.8rem; font-weight:700; letter-spacing:.06em; text-transform:uppercase;
           color:var(--muted); }
h1 { font-size:1.6rem; line-height:1.25; margin:.15rem 0 .5rem; }
h2 { font-size:1.15rem; margin:0; }
.card-head { display:flex; justify-content:space-between; align-items:center; gap:.75rem 1rem; flex-wrap:wrap;
             margin-bottom:.75rem; }
.muted { color:var(--muted); }
p { margin:0 0 .6rem; } p:last-child { margin-bottom:0; }
.tag { display:inline-block; font-size:.75rem; font-weight:600; padding:.1rem .55rem; border-radius:99px;
       background:#eef2ff; color:#3743a8; white-space:nowrap; }
.tag.manager { background:#fff4e5; color:#8a4b00; } .tag.learner { background:#e8f7ef; color:#0f6b43; }
.tag.admin { background:#fdecec; color:#9b1c1c; } .tag.selected { background:#3454d1; color:#fff; }
button, .button { font:inherit; font-weight:600; background:var(--brand); color:#fff;
                  border:1px solid var(--brand); border-radius:6px; padding:.45rem .9rem; min-height:2.4rem;
                  cursor:pointer; text-decoration:none; display:inline-flex; align-items:center;
                  justify-content:center; white-space:nowrap; }
button:hover, .button:hover { background:var(--brand-dark); border-color:var(--brand-dark); color:#fff; }
.button.secondary, button.secondary { background:#fff; color:var(--brand); }
.button.secondary:hover, button.secondary:hover { background:#eef2ff; color:var(--brand-dark); }
.vh { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
.inline-form { margin:0; }

/* Course content: module items, as Moodle and Canvas list them. */
.activities { list-style:none; margin:0; padding:0; border:1px solid var(--line);
               border-radius:var(--radius); }
.activities li { display:flex; gap:.85rem; align-items:flex-start; padding:.8rem 1rem;
                 border-top:1px solid var(--line); }
.activities li:first-child { border-top:0; }
.activities li.current { background:#f5f7ff; box-shadow:inset 3px 0 0 var(--brand); }
.activity-icon { flex:none; width:2.1rem; height:2.1rem; border-radius:6px; background:#eef2ff;
                 color:#3743a8; display:grid; place-items:center; font-size:.7rem; font-weight:700; }
.activity-title { font-weight:600; }
.activity-meta { font-size:.85rem; }
.activities .empty { color:var(--muted); display:block; }
.designer-note { margin:.6rem 0 0; font-size:.85rem; }

table { width:100%; border-collapse:collapse; }
td, th { text-align:left; padding:.6rem .5rem; border-top:1px solid var(--line); vertical-align:middle; }
th { font-size:.75rem; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); border-top:0; }
td.launch { text-align:right; }
.person-name { font-weight:600; }
@media (max-width:42rem) {
  thead { position:absolute; left:-999px; }
  tr { display:grid; grid-template-columns:1fr auto; gap:.15rem 1rem; padding:.7rem 0;
       border-top:1px solid var(--line); }
  td { border:0; padding:0; }
  td.launch { grid-row:1 / span 3; grid-column:2; align-self:center; }
}

.notice { background:#e8f7ef; border:1px solid #b7e4cc; border-left:4px solid var(--ok); color:var(--ok);
          font-weight:600; padding:.7rem 1rem; border-radius:var(--radius); margin-bottom:1.25rem; }
.error { background:#fff; border:1px solid #f0c4c4; border-top:4px solid #9b1c1c; color:var(--ink);
         padding:1rem 1.25rem; border-radius:var(--radius); }
.error strong { display:block; margin-bottom:.35rem; color:#9b1c1c; font-size:1.05rem; }

/* The launch page: the tool's frame takes the room the page has left. */
.frame-head { display:flex; justify-content:space-between; align-items:flex-end; gap:.75rem 1rem;
              flex-wrap:wrap; margin-bottom:.75rem; }
.frame-head h1 { font-size:1.35rem; margin:0 0 .2rem; }
.frame-head p { margin:0; }
.frame-actions { display:flex; gap:.5rem; flex-wrap:wrap; }
iframe.tool { display:block; width:100%; height:max(34rem, calc(100vh - 13rem)); border:1px solid var(--line);
              border-radius:var(--radius); background:#fff; box-shadow:0 1px 3px rgba(16,24,40,.08); }

/* Pages shown inside the frame by the LMS itself. */
body.in-frame { background:#fff; }
.centred { max-width:34rem; margin:3rem auto; padding:0 1.25rem; text-align:center; }
.check { display:inline-grid; place-items:center; width:3rem; height:3rem; border-radius:50%;
         background:#e8f7ef; color:var(--ok); font-size:1.5rem; font-weight:700; margin-bottom:.75rem; }
"""

LAYOUT: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ page_title }} · {{ platform_name }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{{ style|safe }}</style></head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header class="lms"><a class="lms-brand" href="{{ home_url }}" target="_top"><span class="lms-logo"
  aria-hidden="true">L</span>{{ platform_name }}</a>
<span class="lms-top-note">Demo platform · LTI 1.3</span></header>
<div class="shell">
<nav class="course-nav" aria-label="Course">
  <p class="code">{{ course.label }}</p>
  <p class="name">{{ course.title }}</p>
  <ul>
    <li><a href="{{ home_url }}"{% if heading is not defined %} aria-current="page"{% endif %}>Course
      home</a></li>
    <li><a href="{{ home_url }}#activities">Activities</a></li>
    <li><a href="{{ home_url }}#people">People</a></li>
    <li><a href="{{ url_for('demo_gradebook') }}"
      {%- if heading == "gradebook" %} aria-current="page"{% endif %}>Gradebook</a></li>
  </ul>
</nav>
<main id="content">{% block body %}{% endblock %}</main>
</div>
</body></html>"""


def in_layout(body_template: str) -> str:
    """A page template: the LMS chrome around ``body_template`` (composed once, at import)."""
    return LAYOUT.replace("{% block body %}{% endblock %}", body_template)


COURSE_PAGE: Final = """
{% if added %}
<div class="notice" role="status" data-testid="activity-added">Activity added: {{ added.title }}</div>
{% endif %}
<section class="card banner" aria-labelledby="course-heading">
  <p class="eyebrow">Course {{ course.label }}</p>
  <h1 id="course-heading" data-testid="course-title">{{ course.title }}</h1>
  <p class="muted">A stand-in LMS that launches Cadre over real LTI 1.3 (OIDC login, signed id_token).
  Pick an activity, then launch it as anyone in the course.</p>
</section>
<section class="card" aria-labelledby="try-heading" data-testid="what-to-try">
  <h2 id="try-heading">What to try</h2>
  <p class="muted">The course comes with one Cadre activity of each kind of manager feedback, some feedback
  already given and some still to give. Choose an activity below, then launch it as:</p>
  <ul>
    <li><strong>Omar Haddad</strong> (manager of Ana and Ben): finish the draft on Ben in “Feedback on your
      customer calls” and read Ana's reply to hers; finish Ana's skill assessment; finish the review of
      Ben's plan in “Review of your call plan”.</li>
    <li><strong>Rita Nowak</strong> (manager of Chloé and Dev): give Dev feedback for the first time; review
      Chloé's call plan; open the two revisions of Dev's skill assessment.</li>
    <li><strong>Ana Lima</strong> (learner): read the newest revision of your feedback and reply; see your
      self-assessment beside your manager's in “Rate your own customer conversations”.</li>
    <li><strong>Ben Okafor</strong> and <strong>Dev Patel</strong> (learners): finish (Ben) or start (Dev) a
      self-assessment; Dev has not submitted a call plan yet.</li>
    <li><strong>Maya Schmidt</strong> (designer): change an activity's settings or rubric, see the roster and
      the manager links on the people page, follow the feedback on the staff page, add an activity.</li>
  </ul>
  <p class="muted">The <a href="{{ url_for('demo_gradebook') }}">gradebook</a> shows every score Cadre
  posted, one per revision.</p>
</section>
<section class="card" id="activities" aria-labelledby="activities-heading">
  <div class="card-head">
    <h2 id="activities-heading">Activities</h2>
    {% if designer %}
    <form class="inline-form" method="get" action="{{ url_for('demo_deep_link') }}">
      <input type="hidden" name="user" value="{{ designer.sub }}">
      <button type="submit" data-testid="add-activity">Add a Cadre activity (deep linking)</button>
    </form>
    {% endif %}
  </div>
  <ul class="activities">
  {% for item in course.activities %}
    {% set current = activity and item.resource_link_id == activity.resource_link_id %}
    <li class="{{ 'current' if current }}" data-testid="activity">
      <span class="activity-icon" aria-hidden="true">LTI</span>
      <div>
        <a class="activity-title" href="{{ url_for('demo_course', activity=item.resource_link_id) }}#people"
           {% if current %}aria-current="true"{% endif %}>{{ item.title }}</a>
        {% if current %}<span class="tag selected">Chosen for launch</span>{% endif %}
        <div class="activity-meta muted">External tool · Cadre{% if item.description %} —
          {{ item.description }}{% endif %}</div>
      </div>
    </li>
  {% else %}<li><span class="empty">No activity yet. Add one with the button above, as the course's
    designer.</span></li>{% endfor %}
  </ul>
  {% if designer %}
  <p class="designer-note muted">Adding an activity opens Cadre's deep-linking page as {{ designer.label }},
    the course's designer.</p>
  {% endif %}
</section>
<section class="card" id="people" aria-labelledby="people-heading">
  <div class="card-head">
    <h2 id="people-heading">People</h2>
    {% if activity %}<span class="muted">Launch “{{ activity.title }}” as anyone in the
      course</span>{% endif %}
  </div>
  <table>
    <thead><tr><th scope="col">Name</th><th scope="col">Job</th><th scope="col">Role in the course</th>
      <th scope="col"><span class="vh">Launch</span></th></tr></thead>
    <tbody>
    {% for person in course.people %}
    <tr data-testid="person" data-sub="{{ person.sub }}">
      <td class="person-name">{{ person.label }}</td>
      <td class="muted">{{ person.title or "" }}</td>
      <td><span class="tag {{ person.role }}">{{ role_labels[person.role] }}</span>
        {% if person.mentees %}<span class="muted">of {{ mentee_names(person) }}</span>{% endif %}</td>
      <td class="launch">{% if activity %}
        <form class="inline-form" method="get" action="{{ url_for('demo_launch') }}">
          <input type="hidden" name="user" value="{{ person.sub }}">
          <input type="hidden" name="activity" value="{{ activity.resource_link_id }}">
          <button type="submit"
                  class="secondary">Launch<span class="vh"> as {{ person.label }}</span></button>
        </form>{% endif %}</td>
    </tr>
    {% endfor %}
    </tbody>
  </table>
</section>
"""

FRAME_PAGE: Final = """
<nav class="crumbs" aria-label="Breadcrumb"><a href="{{ url_for('demo_course') }}">{{ course.title }}</a>
  › <span aria-current="page">{{ heading }}</span></nav>
<div class="frame-head">
  <div>
    <h1>{{ heading }}</h1>
    <p class="muted">Viewing as <strong>{{ person.label }}</strong>
      <span class="tag {{ person.role }}">{{ role_labels[person.role] }}</span></p>
  </div>
  <div class="frame-actions">
    <a class="button secondary" href="{{ start_url }}" target="_blank" rel="noopener">Open in new tab</a>
    <a class="button secondary" href="{{ url_for('demo_course') }}">Back to the course</a>
  </div>
</div>
<iframe class="tool" name="tool" title="Cadre: {{ heading }}" src="{{ start_url }}"
        allow="clipboard-write" data-testid="tool-frame"></iframe>
{% if tool_origin %}
<script>
/* LTI Platform Storage (1EdTech LTI Client Side postMessages): the tool frame may keep small values in
   this window, e.g. to bind a launch to the browser when it refuses the tool's cookies. */
(function () {
  var frame = document.querySelector("iframe[data-testid=tool-frame]");
  var toolOrigin = {{ tool_origin|tojson }};
  var store = new Map();
  window.addEventListener("message", function (event) {
    var data = event.data;
    if (event.source !== frame.contentWindow || event.origin !== toolOrigin) return;
    if (!data || typeof data !== "object" || typeof data.subject !== "string") return;
    var reply = {subject: data.subject + ".response", message_id: data.message_id};
    var slot = event.origin + " " + data.key;
    if (data.subject === "lti.capabilities") {
      reply.supported_messages = [{subject: "lti.put_data"}, {subject: "lti.get_data"}];
    } else if (data.subject === "lti.put_data" && typeof data.key === "string") {
      store.set(slot, data.value);
      reply.key = data.key;
      reply.value = data.value;
    } else if (data.subject === "lti.get_data" && store.has(slot)) {
      reply.key = data.key;
      reply.value = store.get(slot);
    } else if (data.subject === "lti.put_data") {
      reply.error = {code: "bad_request", message: "lti.put_data needs a string key."};
    } else if (data.subject === "lti.get_data") {
      reply.error = {code: "bad_request", message: "Nothing is stored under this key."};
    } else {
      reply.error = {code: "unsupported_subject", message: "Unsupported subject: " + data.subject};
    }
    event.source.postMessage(reply, event.origin);
  });
})();
</script>
{% endif %}
"""

AUTO_SUBMIT: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;color:#5b6675;margin:0;display:grid;place-items:center;
min-height:8rem;height:100vh}p{margin:0;display:flex;gap:.6rem;align-items:center}
p::before{content:"";width:1rem;height:1rem;border-radius:50%;border:2px solid #c7d0f5;
border-top-color:#3454d1;animation:spin .8s linear infinite}@keyframes spin{to{transform:rotate(1turn)}}
@media (prefers-reduced-motion:reduce){p::before{animation:none}}
button{font:inherit;font-weight:600;background:#3454d1;color:#fff;border:0;border-radius:6px;
padding:.45rem .9rem}
</style></head>
<body>
<form method="post" action="{{ action }}" id="lti-form">
{% for name, value in fields.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}
<noscript><button type="submit">Continue</button></noscript>
</form>
<p role="status">{{ title }}…</p>
<script>document.getElementById("lti-form").submit();</script>
</body></html>"""

DEEP_LINK_DONE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Activity added</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{{ style|safe }}</style></head>
<body class="in-frame"><main class="centred">
<div class="check" aria-hidden="true">✓</div>
<div class="notice" role="status" data-testid="activity-added">Activity added: {{ titles|join(", ") }}</div>
<p class="muted">It is now in the course's activities, ready to launch.</p>
<p><a class="button" href="{{ course_url }}" target="_top">Back to the course</a></p>
</main></body></html>"""

ERROR_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Request refused</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{{ style|safe }}</style></head>
<body class="in-frame"><main class="centred"><div class="error" role="alert" data-testid="platform-error">
<strong>The LMS refused this request.</strong>
<p>{{ message }}</p></div></main></body></html>"""

GRADEBOOK_PAGE: Final = """
<section class="card" aria-labelledby="gradebook-heading">
  <h1 id="gradebook-heading">Gradebook</h1>
  <p class="muted">The columns Cadre's activities asked for when they were placed, and every score Cadre
    posted to them (LTI Assignment and Grade Services), newest first.</p>
  {% for column in columns %}
  <h2 data-testid="line-item">{{ column.label }} <span class="muted">(out of {{ column.maximum }})</span></h2>
  <table>
    <thead><tr><th scope="col">Learner</th><th scope="col">Score</th><th scope="col">Status</th>
      <th scope="col">Posted</th><th scope="col">Comment</th></tr></thead>
    <tbody>
    {% for score in column.scores %}
    <tr data-testid="score" data-sub="{{ score.user }}">
      <td>{{ score.name }}</td>
      <td>{% if score.given is not none %}{{ score.given }} / {{ score.maximum }}{% else %}—{% endif %}</td>
      <td class="muted">{{ score.progress }}</td>
      <td class="muted"><time datetime="{{ score.timestamp }}">{{ score.timestamp }}</time></td>
      <td class="muted">{{ score.comment }}</td>
    </tr>
    {% else %}<tr><td colspan="5" class="empty">No score yet.</td></tr>{% endfor %}
    </tbody>
  </table>
  {% else %}
  <p class="empty" data-testid="no-line-items">No gradebook column yet: add a Cadre activity with points
    (deep linking), and Cadre's scores for it appear here.</p>
  {% endfor %}
</section>
"""


ROLE_LABELS: Final = {
    "designer": "Teacher · designer",
    "manager": "Mentor · manager",
    "learner": "Student · learner",
    "admin": "Administrator",
}


TEMPLATES: Final = {
    "course.html": in_layout(COURSE_PAGE),
    "frame.html": in_layout(FRAME_PAGE),
    "gradebook.html": in_layout(GRADEBOOK_PAGE),
    "auto_submit.html": AUTO_SUBMIT,
    "deep_link_done.html": DEEP_LINK_DONE,
    "error.html": ERROR_PAGE,
}
"""Served through a Jinja ``DictLoader``, so each template is compiled once (the auth endpoint is hot)."""
