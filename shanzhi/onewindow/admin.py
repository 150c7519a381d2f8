"""Back office for the catalogue: items with their materials, bundles with their steps.

Only administrators edit. The forms check the same rules as the services (catalog.py); after
Django's admin saved an object and its inlines (inside the admin's transaction), the matching
service rebuilds what is derived and writes the audit entry, and deletes go through services.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from shanzhi.core.models import Handler, HandlerKind
from shanzhi.core.selectors import has_role
from shanzhi.onewindow import queue, services
from shanzhi.onewindow.catalog import (
    FORM_FIELD_KINDS,
    BundleSpec,
    BundleStepSpec,
    FormFieldSpec,
    ItemSpec,
    StepSpec,
    bundle_errors,
    form_field_errors,
    item_field_errors,
)
from shanzhi.onewindow.models import Bundle, BundleStep, Channel, Material, ServiceItem, ServiceWindow, Theme

_SPLIT = re.compile(r"[\s,,、;;]+")


class CatalogAdminMixin:
    """Everyone with back-office access may look; only administrators change the catalogue."""

    def _may_edit(self, request: HttpRequest) -> bool:
        return has_role(user=request.user, roles=services.CATALOG_ROLES)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_edit(request)


def parse_steps(text: str) -> list[StepSpec]:
    """One step a line, "名称:说明" (the description is optional)."""
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            name, _sep, detail = line.replace(":", ":").partition(":")
            steps.append(StepSpec(name=name.strip(), detail=detail.strip()))
    return steps


def parse_form_fields(text: str) -> list[FormFieldSpec]:
    """One field a line, "标识|名称|类型|选填" (type and 选填 optional)."""
    fields = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts[0]:
            continue
        fields.append(
            FormFieldSpec(
                key=parts[0],
                label=parts[1] if len(parts) > 1 else "",
                kind=parts[2] if len(parts) > 2 and parts[2] else "text",
                required=not (len(parts) > 3 and parts[3] == "选填"),
            )
        )
    return fields


class ServiceItemForm(forms.ModelForm):
    channels = forms.MultipleChoiceField(
        label="办理渠道", choices=Channel.choices, widget=forms.CheckboxSelectMultiple
    )
    steps_text = forms.CharField(
        label="办理流程",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="每行一个环节,格式“名称:说明”,2–12 行",
    )
    keywords_text = forms.CharField(
        label="关键词", required=False, help_text="群众常用的说法,用空格或顿号分隔"
    )

    class Meta:
        model = ServiceItem
        fields = [  # steps and keywords are edited as text (steps_text, keywords_text)
            "code",
            "basic_code",
            "name",
            "item_type",
            "theme",
            "summary",
            "applicants",
            "legal_basis",
            "conditions",
            "statutory_days",
            "promised_days",
            "time_limit_note",
            "fee_text",
            "fee_amount",
            "visits",
            "department",
            "window",
            "channels",
            "phone",
            "application_form",
            "active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        item = self.instance
        if item.pk:
            self.initial["steps_text"] = "\n".join(
                f"{s.get('name', '')}:{s.get('detail', '')}".rstrip(":") for s in item.steps
            )
            self.initial["keywords_text"] = " ".join(item.keywords)
        department = self.fields["department"]
        assert isinstance(department, forms.ModelChoiceField)  # the model's ForeignKey
        department.queryset = Handler.objects.filter(
            type__kind=HandlerKind.DEPARTMENT, region__parent__isnull=True, active=True
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        steps = parse_steps(data.get("steps_text", ""))
        keywords = [k for k in _SPLIT.split(data.get("keywords_text", "")) if k]
        department = data.get("department")
        spec = ItemSpec(
            code=data.get("code") or self.instance.code or "",
            basic_code=data.get("basic_code", "") or "",
            name=data.get("name", "") or "",
            item_type=data.get("item_type", "") or "",
            theme=data.get("theme", "") or "",
            summary=data.get("summary", "") or "",
            applicants=data.get("applicants", "") or "",
            legal_basis=data.get("legal_basis", "") or "",
            conditions=data.get("conditions", "") or "",
            steps=tuple(steps),
            promised_days=data.get("promised_days") or 0,
            statutory_days=data.get("statutory_days"),
            department=department.code if department else "",
            window=data.get("window", "") or "",
            channels=tuple(data.get("channels", ())),
            phone=data.get("phone", "") or "",
            materials=(),
            visits=data.get("visits") or 0,
            fee_text=data.get("fee_text", "") or "",
            fee_amount=data.get("fee_amount") or Decimal(0),
            time_limit_note=data.get("time_limit_note", "") or "",
            keywords=tuple(keywords),
            application_form=data.get("application_form", "") or "",
        )
        for field, message in item_field_errors(spec):
            target = {"steps": "steps_text", "keywords": "keywords_text"}.get(field, field)
            if target in self.fields and target not in self.errors:
                self.add_error(target, message)
            elif target not in self.fields:
                self.add_error(None, message)
        self.instance.steps = [{"name": s.name, "detail": s.detail} for s in steps]
        self.instance.keywords = keywords
        return data


class MaterialInline(admin.TabularInline):
    model = Material
    extra = 1
    fields = [
        "order",
        "name",
        "key",
        "form",
        "copies",
        "requirement",
        "condition",
        "shared",
        "shared_source",
        "notes",
    ]
    ordering = ["order"]


@admin.register(ServiceItem)
class ServiceItemAdmin(CatalogAdminMixin, admin.ModelAdmin):
    form = ServiceItemForm
    inlines = [MaterialInline]
    list_display = ["name", "code", "item_type", "theme", "department", "promised_days", "visits", "active"]
    list_filter = ["theme", "item_type", "active", "department"]
    search_fields = ["name", "code", "basic_code", "search_text"]
    fieldsets = [
        (None, {"fields": ["code", "basic_code", "name", "item_type", "theme", "active"]}),
        ("一次性告知", {"fields": ["summary", "applicants", "conditions", "legal_basis", "steps_text"]}),
        (
            "时限、收费和跑动",
            {
                "fields": [
                    "statutory_days",
                    "promised_days",
                    "time_limit_note",
                    "fee_text",
                    "fee_amount",
                    "visits",
                ]
            },
        ),
        (
            "办理",
            {"fields": ["department", "window", "channels", "phone", "application_form", "keywords_text"]},
        ),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["code"] if obj is not None else []  # applications refer to items by code

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.service_item_admin_saved(actor=request.user, item=form.instance, created=not change)

    def delete_model(self, request: HttpRequest, obj: ServiceItem) -> None:
        services.service_item_delete(actor=request.user, item=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> None:
        for item in queryset:
            services.service_item_delete(actor=request.user, item=item)


class BundleStepFormSet(BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        rows = [
            f.cleaned_data
            for f in self.forms
            if getattr(f, "cleaned_data", None)
            and not f.cleaned_data.get("DELETE")
            and f.cleaned_data.get("item")
        ]
        rows.sort(key=lambda d: d.get("order") or 0)
        item_of = {d["id"].pk: d["item"].code for d in rows if d.get("id")}
        steps = []
        for d in rows:
            material = d.get("result_material")
            later = None
            if material is not None:
                later = (material.item.code, material.name)
            steps.append(
                BundleStepSpec(
                    item_code=d["item"].code,
                    depends_on=tuple(item_of.get(s.pk, s.item.code) for s in d.get("depends_on") or ()),
                    result_for=later,
                )
            )
        bundle = self.instance
        spec = BundleSpec(
            code=bundle.code or "x0",
            name=bundle.name or "-",
            description=bundle.description or "-",
            window=bundle.window or "-",
            steps=tuple(steps),
        )
        codes = [s.item_code for s in steps]
        materials_of: dict[str, list[str]] = {
            c: []
            for c in ServiceItem.objects.filter(code__in=codes, active=True).values_list("code", flat=True)
        }
        for code, name in Material.objects.filter(item__code__in=codes).values_list("item__code", "name"):
            if code in materials_of:
                materials_of[code].append(name)
        messages = [m for field, m in bundle_errors(spec, materials_of=materials_of) if field == "steps"]
        if messages:
            raise forms.ValidationError(messages)


class BundleStepInline(admin.TabularInline):
    model = BundleStep
    formset = BundleStepFormSet
    extra = 1
    fields = ["order", "item", "depends_on", "result_material"]
    ordering = ["order"]
    autocomplete_fields = ["item"]

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        self._bundle = obj  # the choices below depend on the bundle being edited
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "depends_on":
            bundle = getattr(self, "_bundle", None)
            kwargs["queryset"] = (
                BundleStep.objects.filter(bundle=bundle).select_related("item")
                if bundle
                else (BundleStep.objects.none())
            )
            kwargs["help_text"] = "只能选择本一件事中顺序靠前的环节;新增的环节保存后才能被选择"
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "result_material":
            bundle = getattr(self, "_bundle", None)
            kwargs["queryset"] = (
                Material.objects.filter(item__bundle_steps__bundle=bundle).select_related("item")
                if bundle
                else Material.objects.none()
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class BundleForm(forms.ModelForm):
    form_fields_text = forms.CharField(
        label="合并表单字段",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="每行一个字段:标识|名称|类型|选填。类型:"
        + "、".join(f"{k}({v})" for k, v in FORM_FIELD_KINDS.items()),
    )

    class Meta:
        model = Bundle
        fields = ["code", "name", "description", "window", "visits", "sort_order", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["form_fields_text"] = "\n".join(
                "|".join([f["key"], f["label"], f["kind"], "" if f.get("required", True) else "选填"]).rstrip(
                    "|"
                )
                for f in self.instance.form_fields
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        fields = parse_form_fields(data.get("form_fields_text", ""))
        for _field, message in form_field_errors(fields):
            self.add_error("form_fields_text", message)
        if data.get("visits") is not None and data["visits"] > 3:
            self.add_error("visits", "到现场次数应在 0–3 之间")
        self.instance.form_fields = [
            {"key": f.key, "label": f.label, "kind": f.kind, "required": f.required} for f in fields
        ]
        return data


@admin.register(Bundle)
class BundleAdmin(CatalogAdminMixin, admin.ModelAdmin):
    form = BundleForm
    inlines = [BundleStepInline]
    list_display = ["name", "code", "window", "visits", "sort_order", "active"]
    list_filter = ["active"]
    search_fields = ["name", "code"]
    fields = ["code", "name", "description", "window", "visits", "sort_order", "active", "form_fields_text"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["code"] if obj is not None else []

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.bundle_admin_saved(actor=request.user, bundle=form.instance, created=not change)

    def delete_model(self, request: HttpRequest, obj: Bundle) -> None:
        services.bundle_delete(actor=request.user, bundle=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Bundle]) -> None:
        for bundle in queryset:
            services.bundle_delete(actor=request.user, bundle=bundle)


# ---- the hall's windows (applications half) ----------------------------------------------------


class ServiceWindowForm(forms.ModelForm):
    themes = forms.MultipleChoiceField(
        label="办理主题", choices=Theme.choices, required=False, help_text="不选 = 综合窗口,各主题都办"
    )

    class Meta:
        model = ServiceWindow
        fields = ["hall", "code", "name", "themes", "active"]

    def clean_hall(self) -> Any:
        hall = self.cleaned_data.get("hall")
        if hall is not None and hall.level == "village":
            raise forms.ValidationError("服务大厅设在县或乡镇(街道)")
        return hall


@admin.register(ServiceWindow)
class ServiceWindowAdmin(CatalogAdminMixin, admin.ModelAdmin):
    """Windows are set up by administrators; saving goes through queue.window_create/update (one
    audit entry each). A window with queue history is closed (停用), never deleted."""

    form = ServiceWindowForm
    list_display = ["hall", "code", "name", "active"]
    list_filter = ["active"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["hall", "code"] if obj is not None else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ServiceWindow, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change:
            queue.window_update(
                actor=request.user,
                window=obj,
                name=data["name"],
                themes=data["themes"],
                active=data["active"],
            )
            return
        created = queue.window_create(
            actor=request.user, hall=data["hall"], code=data["code"], name=data["name"], themes=data["themes"]
        )
        obj.pk = created.pk
