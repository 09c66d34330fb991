"""Errors for people: what went wrong, where (file, sheet, row, column), in Chinese and English."""

from __future__ import annotations


class QjError(Exception):
    """Base of qjlib's errors; the CLI prints ``str(e)`` as one line and exits non-zero."""


class InputError(QjError):
    """A data-package file that cannot be used: unreadable, empty, or lacking a required column."""

    def __init__(
        self,
        message_zh: str,
        message_en: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        """The message in Chinese and English, and where: file, sheet, row (as a person counts
        it) and column, each optional."""
        self.message_zh, self.message_en = message_zh, message_en
        self.file, self.sheet, self.row, self.column = file, sheet, row, column
        where = [x for x in (
            file and f"文件 {file}",
            sheet and f"工作表 {sheet}",
            row is not None and f"第 {row} 行",
            column and f"列 {column}",
        ) if x]
        loc = "，".join(where)
        super().__init__(f"{loc + '：' if loc else ''}{message_zh} / {message_en}")
