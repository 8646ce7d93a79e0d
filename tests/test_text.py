import pytest

from engine.errors import StudioError
from engine.text import inspect_text_file, iter_text_chunks, read_text, word_tokenize


def test_empty_file_is_refused(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_bytes(b"")
    with pytest.raises(StudioError, match="empty"):
        inspect_text_file(p)


def test_whitespace_only_is_refused(tmp_path):
    p = tmp_path / "blank.txt"
    p.write_text(" \n\n\t \n")
    with pytest.raises(StudioError, match="only whitespace"):
        inspect_text_file(p)


def test_binary_file_is_refused(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(StudioError, match="binary"):
        inspect_text_file(p)


def test_missing_and_folder(tmp_path):
    with pytest.raises(StudioError, match="no such file"):
        inspect_text_file(tmp_path / "nope.txt")
    with pytest.raises(StudioError, match="folder"):
        inspect_text_file(tmp_path)


def test_wrong_encoding_names_offset_and_line(tmp_path):
    p = tmp_path / "latin.txt"
    p.write_bytes("line one\nline two\ncaf\u00e9 au lait\n".encode("latin-1"))
    with pytest.raises(StudioError) as err:
        inspect_text_file(p)
    msg = str(err.value)
    assert "not valid utf-8" in msg and "line 3" in msg and "0xe9" in msg and "--encoding" in msg
    # and the documented way out works
    assert read_text(p, encoding="latin-1").endswith("caf\u00e9 au lait\n")


def test_bom_and_newlines_are_normalised(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes("\ufeffa\r\nb\rc\n".encode("utf-8"))
    assert read_text(p) == "a\nb\nc\n"


def test_crlf_split_across_chunks(tmp_path):
    p = tmp_path / "crlf.txt"
    p.write_bytes(b"ab\r\ncd\r\n" * 3)
    pieces = list(iter_text_chunks(p, chunk_bytes=3))
    assert "".join(pieces) == "ab\ncd\n" * 3


def test_facts(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text("hello\n")
    info = inspect_text_file(p)
    assert info.size == 6 and len(info.sha256) == 64


def test_word_tokenize_needs_no_nltk_data():
    assert word_tokenize("I can't believe it's GOOD!") == ["i", "ca", "n't", "believe", "it", "'s",
                                                          "good", "!"]


def test_word_tokenize_keeps_standalone_emoticons_whole():
    assert word_tokenize("Loved it :) :-D <3") == ["loved", "it", ":)", ":-d", "<3"]
    assert word_tokenize(":( rainy") == [":(", "rainy"]
    # punctuation that only looks like one is tokenized as before
    assert word_tokenize("Note: it costs 8:30 (sic)") == ["note", ":", "it", "costs", "8:30", "(",
                                                          "sic", ")"]


NOTEPAD_TEXT = "ROMEO: But soft, what light through yonder window breaks?\r\nCafé “quoted” — ok\r\n" * 40


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_a_text_saved_as_utf16_or_with_a_bom_reads_as_text(tmp_path, codec):
    """Finding 29.1: Windows Notepad's "Unicode" (UTF-16 LE with a byte-order mark, CRLF) and
    UTF-16 without a mark are text, read with the default encoding; so is UTF-8 with a mark."""
    from engine.text import guess_encoding
    path = tmp_path / "notepad.txt"
    path.write_bytes(NOTEPAD_TEXT.encode(codec))
    assert path.read_bytes().count(b"\x00") > 0 or codec == "utf-8-sig"
    assert read_text(path) == NOTEPAD_TEXT.replace("\r\n", "\n")
    assert guess_encoding(path) in ("utf-16", codec, "utf-8")
    assert read_text(path, guess_encoding(path)) == NOTEPAD_TEXT.replace("\r\n", "\n")


def test_a_really_binary_file_says_what_to_do(tmp_path):
    p = tmp_path / "x.bin"
    p.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(StudioError, match="binary.*save it as UTF-8"):
        inspect_text_file(p)
    p.write_bytes("text\x00with a NUL character".encode("utf-16"))
    with pytest.raises(StudioError, match="NUL characters.*save it as UTF-8"):
        inspect_text_file(p)
