// A horizontal tab list as the ARIA Authoring Practices describe it: one tab
// stop for the whole list; Left, Right, Home and End move between the tabs and
// show each one's panel at once.

const KEY_STEPS = { ArrowLeft: -1, ArrowRight: 1 };

/** Make the [role=tab] buttons in `tablist` switch their panels (aria-controls).
 * `onSelect(name)` hears each switch, name being the tab's data-tab. Returns
 * select(name, {focus}) for the page to switch tabs itself. */
export function bindTabs(tablist, onSelect) {
  const tabs = [...tablist.querySelectorAll('[role="tab"]')];

  function select(name, { focus = false } = {}) {
    const chosen = tabs.find((tab) => tab.dataset.tab === name) ?? tabs[0];
    for (const tab of tabs) {
      const selected = tab === chosen;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
      document.getElementById(tab.getAttribute("aria-controls")).hidden = !selected;
    }
    if (focus) chosen.focus();
    onSelect(chosen.dataset.tab);
  }

  tablist.addEventListener("click", (event) => {
    const tab = event.target.closest('[role="tab"]');
    if (tab) select(tab.dataset.tab);
  });
  tablist.addEventListener("keydown", (event) => {
    const at = tabs.indexOf(document.activeElement);
    if (at < 0) return;
    let next;
    if (event.key in KEY_STEPS) next = (at + KEY_STEPS[event.key] + tabs.length) % tabs.length;
    else if (event.key === "Home") next = 0;
    else if (event.key === "End") next = tabs.length - 1;
    else return;
    event.preventDefault();
    select(tabs[next].dataset.tab, { focus: true });
  });
  return select;
}
