// The Django admin and its add-ons under our strict CSP and WCAG 2.2 AA: what their own
// JavaScript builds without a name or role, and handlers their templates wrote inline.
"use strict";

function labelWidgets(root) {
  // filter_horizontal (SelectFilter2.js): an aria-label on a plain <span> is prohibited;
  // as an image the icon names the search box it labels.
  root.querySelectorAll(".help-tooltip[aria-label]:not([role])").forEach((icon) => {
    icon.setAttribute("role", "img");
  });
  // select2 (autocomplete_fields): the combobox is labelled by its rendered value, which is
  // empty until something is chosen. Name it by the field's own <label> first.
  root.querySelectorAll(".select2-selection[role=combobox]").forEach((combobox) => {
    const container = combobox.closest(".select2-container");
    const select = container && container.previousElementSibling;
    const label = select && select.id && document.querySelector(`label[for="${select.id}"]`);
    const rendered = combobox.querySelector(".select2-selection__rendered");
    if (!label || !rendered || combobox.dataset.labelled) return;
    label.id = label.id || `${select.id}_label`;
    combobox.setAttribute("aria-labelledby", `${label.id} ${rendered.id}`);
    rendered.setAttribute("aria-labelledby", label.id);
    combobox.dataset.labelled = "true";
  });
}

// The admin builds these widgets on load, and again for each inline form added.
new MutationObserver(() => labelWidgets(document)).observe(document.documentElement, {
  childList: true,
  subtree: true,
});
document.addEventListener("DOMContentLoaded", () => labelWidgets(document));

// django-import-export's export page: "Select all" (templates/admin/import_export/export.html
// drops the inline onchange the policy blocks).
document.addEventListener("change", (event) => {
  if (event.target.matches(".select-toggle") && window.onSelectToggleChange) {
    window.onSelectToggleChange(event);
  }
});
