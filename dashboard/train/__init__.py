"""The Train page's parts: settings (kept in the URL), summary, live view, lesson link, learning-rate finder."""
