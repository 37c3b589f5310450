"""A tiny llama-architecture GGUF model with random weights, written with the ``gguf`` package.

Its words are noise, which is the point: under a JSON-schema grammar a server still returns valid JSON
of the schema, so the test exercises exactly the path the Guide needs on a real server, with no model to
download. Two choices keep it fast and its JSON short:

* the vocabulary holds the words of EGuR's own prompts (with every prefix, so the SentencePiece
  tokenizer can merge up to them), every printable character and the 256 byte tokens, so prompts take
  few tokens;
* one dimension of the residual stream is a constant that only the output layer reads, so the logits
  rank tokens in a fixed order: structural JSON tokens first (a string closes, an object or array ends
  as soon as the grammar allows) and the end-of-sequence token last (free text runs to ``max_tokens``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from pathlib import Path

import gguf
import numpy as np

SPACE = "\u2581"  # SentencePiece's word boundary
PREFERRED = ['"', "}", "]", "0", "1", "a", ","]
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
          "<|im_start|>assistant\n")


def vocabulary(texts: Iterable[str]) -> list[str]:
    """Special tokens, bytes, printable characters, then every prefix of every word of ``texts``."""
    words = {w for text in texts for w in re.findall(r"[A-Za-z_]{2,}|\d{2,}", text)}
    pieces = dict.fromkeys(c for c in string.printable if c not in " \t\n\r\x0b\x0c")
    pieces[SPACE] = None
    for word in sorted(words):
        for end in range(2, len(word) + 1):
            pieces[word[:end]] = None
            pieces[SPACE + word[:end]] = None
    return ["<unk>", "<s>", "</s>", *(f"<0x{b:02X}>" for b in range(256)), *pieces]


def write_tiny_model(path: Path, texts: Iterable[str], *, n_embd: int = 32, n_ff: int = 64,
                     context: int = 32768) -> Path:
    tokens = vocabulary(texts)
    rng = np.random.default_rng(0)
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(context)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(1)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(4)
    writer.add_head_count_kv(4)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_dimension_count(n_embd // 4)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * 259 + [float(len(t)) for t in tokens[259:]])  # longer pieces merge first
    writer.add_token_types([gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
                           + [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * (len(tokens) - 259))
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(True)
    writer.add_chat_template(CHATML)
    for name, tensor in _tensors(len(tokens), n_embd, n_ff, tokens, rng).items():
        writer.add_tensor(name, tensor)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _tensors(n_vocab: int, n_embd: int, n_ff: int, tokens: list[str], rng: np.random.Generator) -> dict:
    def random(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    embed = random(n_vocab, n_embd)
    embed[:, 0] = 1.0  # dimension 0: a constant the blocks never write to
    attn_out, ffn_down = random(n_embd, n_embd), random(n_embd, n_ff)
    attn_out[0, :] = 0.0
    ffn_down[0, :] = 0.0
    output_norm = np.zeros(n_embd, dtype=np.float32)
    output_norm[0] = 1.0  # the logits read only dimension 0: one fixed ranking of the tokens
    output = np.zeros((n_vocab, n_embd), dtype=np.float32)
    output[:, 0] = rng.uniform(0.0, 1.0, n_vocab).astype(np.float32)
    for rank, token in enumerate(PREFERRED):
        output[tokens.index(token), 0] = 10.0 - rank
    output[2, 0] = -10.0  # </s> last: free text runs to max_tokens
    return {
        "token_embd.weight": embed, "output_norm.weight": output_norm, "output.weight": output,
        "blk.0.attn_norm.weight": np.ones(n_embd, dtype=np.float32),
        "blk.0.attn_q.weight": random(n_embd, n_embd), "blk.0.attn_k.weight": random(n_embd, n_embd),
        "blk.0.attn_v.weight": random(n_embd, n_embd), "blk.0.attn_output.weight": attn_out,
        "blk.0.ffn_norm.weight": np.ones(n_embd, dtype=np.float32),
        "blk.0.ffn_gate.weight": random(n_ff, n_embd), "blk.0.ffn_up.weight": random(n_ff, n_embd),
        "blk.0.ffn_down.weight": ffn_down,
    }
