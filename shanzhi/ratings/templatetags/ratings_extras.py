from django import template

from shanzhi.core.masking import mask_phone

register = template.Library()


@register.filter(name="masked_phone")
def masked_phone(value: str) -> str:
    return mask_phone(value or "")
