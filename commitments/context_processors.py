from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language


def public_urls(request):
    """The page's canonical address and its addresses in every language, for the switcher,
    <link rel="canonical"> and hreflang alternates. No query: nothing here is per visitor.
    """
    current = get_language()
    full_path = request.get_full_path()
    languages = [
        {
            "code": code,
            "name": name,
            "url": translate_url(full_path, code),
            "absolute": request.build_absolute_uri(translate_url(request.path, code)),
            "current": code == current,
        }
        for code, name in settings.LANGUAGES
    ]
    return {
        "languages": languages,
        "canonical_url": request.build_absolute_uri(request.path),
        "default_language_url": languages[0]["absolute"],
        # The published confirmation window, quoted by the method paragraph and verdicts.
        "confirmation_months": settings.CONFIRMATION_WINDOW_MONTHS,
    }
