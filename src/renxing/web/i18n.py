"""zh-CN first, English on a switch. Templates write Chinese and wrap it in ``_()``;
each domain registers its English for the strings it uses."""

from fastapi import Request

LANGS = ("zh", "en")
_EN: dict[str, str] = {}


def register(catalog: dict[str, str]) -> None:
    _EN.update(catalog)


def lang_of(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get("lang") or "zh"
    return lang if lang in LANGS else "zh"


def translate(text: str, lang: str) -> str:
    return _EN.get(text, text) if lang == "en" else text


def pick(pair: tuple[str, str], lang: str) -> str:
    """Labels kept as (zh, en) pairs next to their enums."""
    return pair[1] if lang == "en" else pair[0]


register(
    {
        "韧性社区治理平台": "Renxing community resilience platform",
        "登录": "Log in",
        "退出": "Log out",
        "用户名": "Username",
        "密码": "Password",
        "首页": "Home",
        "网格": "Grid",
        "居民": "Residents",
        "搜索": "Search",
        "上一页": "Previous",
        "下一页": "Next",
        "第": "Page",
        "页": "",
        "共": "Total",
        "条": "rows",
        "出错了": "Something went wrong",
        "返回": "Back",
        "无权访问": "Forbidden",
        "未找到": "Not found",
    }
)
