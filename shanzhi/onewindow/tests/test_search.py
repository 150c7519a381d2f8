"""Search by the words residents use: Chinese words, keywords, material names, theme words,
pinyin initials and full pinyin, with the ranking exact name > name > keyword > pinyin."""

from __future__ import annotations

import pytest

from shanzhi.core.errors import ServiceError
from shanzhi.onewindow.selectors import service_item_search
from shanzhi.onewindow.services import service_item_create, service_item_set_active
from shanzhi.onewindow.tests.window_setup import spec


def names(q: str = "", **kwargs) -> list[str]:
    return [i.name for i in service_item_search(q=q, **kwargs).items]


def test_chinese_words_in_names_keywords_materials_and_themes(catalog):
    # An exact keyword outranks a name that only contains the words.
    assert names("养老保险") == ["城乡居民基本养老保险参保登记", "职工基本养老保险待遇申领"]
    # 养老 is also a word of the civil-affairs theme (养老服务): those items follow the name matches.
    assert names("养老") == ["职工基本养老保险待遇申领", "城乡居民基本养老保险参保登记", "高龄津贴申领"]
    assert names("农保") == ["城乡居民基本养老保险参保登记"]
    assert names("外地看病") == ["异地就医备案"]
    assert names("出生医学证明") == ["出生登记(户口)"]  # a material name
    assert set(names("社保")) == {"城乡居民基本养老保险参保登记", "职工基本养老保险待遇申领"}  # a theme word
    assert names("县公安局") == ["出生登记(户口)", "户口迁入(购房、投靠)"]  # the department
    assert names("没有这种事") == []


def test_pinyin_initials_and_full_pinyin(catalog):
    assert names("ylbx") == ["职工基本养老保险待遇申领", "城乡居民基本养老保险参保登记"]
    assert set(names("yl")) == {"城乡居民基本养老保险参保登记", "职工基本养老保险待遇申领"}
    assert names("hk") == ["户口迁入(购房、投靠)", "出生登记(户口)"]  # name initials before keyword initials
    assert names("yidijiuyi") == ["异地就医备案"]
    assert names("yanglao") == ["职工基本养老保险待遇申领", "城乡居民基本养老保险参保登记"]
    assert names("GLJT") == ["高龄津贴申领"]  # case-insensitive
    assert names("ｇｌｊｔ") == ["高龄津贴申领"]  # full-width letters from a phone keyboard


def test_ranking_exact_name_then_keyword_then_name_then_initials(catalog):
    service_item_create(actor=None, spec=spec(21, "高龄津贴"))  # exact name
    service_item_create(
        actor=None, spec=spec(22, "老年人优待证办理", keywords=("高龄津贴",))
    )  # exact keyword
    service_item_create(actor=None, spec=spec(24, "敬老卡", keywords=("高龄津贴补发",)))  # keyword prefix
    # exact name > exact keyword > name starting with the words > keyword starting with them
    assert names("高龄津贴") == ["高龄津贴", "老年人优待证办理", "高龄津贴申领", "敬老卡"]
    service_item_create(actor=None, spec=spec(23, "老年证补办", keywords=("gljt",)))  # keyword beats initials
    assert names("gljt") == ["老年证补办", "高龄津贴", "高龄津贴申领", "老年人优待证办理", "敬老卡"]


def test_every_word_must_match(catalog):
    assert names("养老 待遇") == ["职工基本养老保险待遇申领"]
    assert names("养老,外地看病") == []
    assert names("养老,户口") == names("养老")  # every default item lists 居民户口簿


def test_theme_filter_by_code_or_label(catalog):
    assert names(theme="household") == ["出生登记(户口)", "户口迁入(购房、投靠)"]
    assert names("户口", theme="户籍") == ["出生登记(户口)", "户口迁入(购房、投靠)"]  # exact keyword first
    assert names("养老", theme="civil_affairs") == ["高龄津贴申领"]
    assert names("外地看病", theme="civil_affairs") == []
    assert names("外地看病", theme="医疗保障") == ["异地就医备案"]
    with pytest.raises(ServiceError) as exc:
        service_item_search(theme="weather")
    assert exc.value.code == "invalid_theme"


def test_paging_reports_the_total(catalog):
    first = service_item_search(q="", limit=4, offset=0)
    second = service_item_search(q="", limit=4, offset=4)
    assert (first.total, len(first.items), second.total, len(second.items)) == (6, 4, 6, 2)
    assert not {i.code for i in first.items} & {i.code for i in second.items}
    ranked = service_item_search(q="养老", limit=1, offset=1)
    assert (ranked.total, [i.name for i in ranked.items]) == (3, ["城乡居民基本养老保险参保登记"])


def test_withdrawn_items_are_not_found(catalog):
    service_item_set_active(actor=None, item=catalog["remote"], active=False)
    assert names("异地就医") == []
    assert service_item_search().total == 5


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"limit": 0}, "invalid_page"),
        ({"limit": 101}, "invalid_page"),
        ({"offset": -1}, "invalid_page"),
        ({"q": "长" * 51}, "invalid_query"),
        ({"q": "a\x00b"}, "invalid_query"),
    ],
)
def test_bad_input(catalog, kwargs, code):
    with pytest.raises(ServiceError) as exc:
        service_item_search(**kwargs)
    assert (exc.value.code, exc.value.status) == (code, 422)
