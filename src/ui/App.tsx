// The interactive chat screen. Finished items print once through <Static> (scrollback stays
// intact, nothing above the live turn ever repaints); the live turn is cut to fit the terminal;
// agent events are applied in batches at most every FLUSH_MS so typing stays responsive while
// tokens stream.
import { Box, Static, Text, useApp, useInput, useStdout, type Key } from "ink";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { AgentEvent, PermissionMode } from "../agent/events.js";
import type { AnsiStyle } from "./ansi_style.js";
import type { LoadProgress } from "../engine/types.js";
import { loadDetail, loadFraction } from "./components/LoadProgress.js";
import { PERMISSION_CHOICES, PermissionPrompt } from "./components/PermissionPrompt.js";
import { PromptInput } from "./components/PromptInput.js";
import { SlashPalette } from "./components/SlashPalette.js";
import { StatusLine, statusLines } from "./components/StatusLine.js";
import { TodoList } from "./components/TodoList.js";
import * as edit from "./input_buffer.js";
import type { InputHistory } from "./input_history.js";
import type { AppServices, SessionDriver } from "./session_driver.js";
import { matchSlashCommands, parseSlashCommand, SLASH_COMMANDS } from "./slash/registry.js";
import type { SlashContext } from "./slash/slash_command.js";
import {
  addNotice,
  addReasoningReplay,
  addUserMessage,
  applyAgentEvents,
  clearPermission,
  emptyTranscript,
  lastReasoning,
  type TranscriptItem,
  type TranscriptState,
} from "./transcript.js";
import { itemLines, rowsOf, tailToRows } from "./transcript_lines.js";

export const FLUSH_MS = 50;
const CTRL_C_EXIT_WINDOW_MS = 2000;

export interface ChatAppProps {
  driver: SessionDriver;
  services: AppServices;
  history: InputHistory;
  style: AnsiStyle;
  cwd: string;
  branch: string | null;
  showThinking: boolean;
  /** Printed into the transcript at start (resumed sessions, warnings). */
  initialNotices?: string[];
  onExit?: () => void;
}

export function ChatApp(props: ChatAppProps) {
  const { style, services, history } = props;
  const { exit } = useApp();
  const { stdout } = useStdout();
  const [width, setWidth] = useState(stdout.columns > 0 ? stdout.columns : 80);
  const [rows, setRows] = useState(stdout.rows > 0 ? stdout.rows : 24);
  const [driver, setDriver] = useState(props.driver);
  const [mode, setMode] = useState<PermissionMode>(props.driver.mode);
  const [transcript, setTranscript] = useState<TranscriptState>(() => {
    let t = emptyTranscript();
    for (const n of props.initialNotices ?? []) t = addNotice(t, "info", n);
    return t;
  });
  const [staticEpoch, setStaticEpoch] = useState(0);
  const [input, setInput] = useState<edit.InputBuffer>(edit.EMPTY_INPUT);
  const [showThinking, setShowThinking] = useState(props.showThinking);
  const [expandLive, setExpandLive] = useState(false);
  const [paletteIndex, setPaletteIndex] = useState(0);
  const [permissionIndex, setPermissionIndex] = useState(0);
  const [hint, setHint] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  /** A running slash-command task (loading a model): its label and progress. */
  const [task, setTask] = useState<{ label: string; progress?: LoadProgress } | null>(null);
  const taskRef = useRef(false);

  const queue = useRef<AgentEvent[]>([]);
  const arrivals = useRef<number[]>([]);
  const abort = useRef<AbortController | null>(null);
  /** Set by Esc: the turn already shows as cancelled; what the stream still delivers is not shown. */
  const dropEvents = useRef(false);
  const queuedPrompt = useRef<{ text: string; shownAs: string } | null>(null);
  const lastCtrlC = useRef(0);
  const historyIndex = useRef(-1);
  const draft = useRef("");
  const pasting = useRef(false);
  const driverRef = useRef(driver);
  driverRef.current = driver;
  const showThinkingRef = useRef(showThinking);
  showThinkingRef.current = showThinking;

  useEffect(() => {
    const onResize = () => {
      setWidth(stdout.columns > 0 ? stdout.columns : 80);
      setRows(stdout.rows > 0 ? stdout.rows : 24);
    };
    stdout.on("resize", onResize);
    // Bracketed paste: pasted newlines arrive as text instead of submitting the prompt.
    if (stdout.isTTY === true) stdout.write("\u001b[?2004h");
    return () => {
      stdout.off("resize", onResize);
      if (stdout.isTTY === true) stdout.write("\u001b[?2004l");
    };
  }, [stdout]);

  const flushEvents = useCallback(() => {
    if (queue.current.length === 0) return;
    const batch = queue.current;
    const times = arrivals.current;
    queue.current = [];
    arrivals.current = [];
    setTranscript((t) => applyAgentEvents(t, batch, times));
  }, []);

  const notice = useCallback((text: string, tone: "info" | "warn" | "error" = "info") => {
    setTranscript((t) => addNotice(t, tone, text));
  }, []);

  /** Consumes one agent stream (a turn or a compaction) into the transcript. */
  const consume = useCallback(
    (stream: (signal: AbortSignal) => AsyncIterable<AgentEvent>) => {
      const controller = new AbortController();
      abort.current = controller;
      dropEvents.current = false;
      setBusy(true);
      setExpandLive(false);
      const timer = setInterval(flushEvents, FLUSH_MS);
      void (async () => {
        try {
          for await (const ev of stream(controller.signal)) {
            if (dropEvents.current) continue;
            queue.current.push(ev);
            arrivals.current.push(Date.now());
            if (ev.type === "permission_request") {
              permissionIndexRef.current = 0;
              setPermissionIndex(0);
              flushEvents();
            }
          }
        } catch (err) {
          if (!dropEvents.current) {
            queue.current.push({ type: "error", message: err instanceof Error ? err.message : String(err), recoverable: true }, { type: "turn_end", reason: "error" });
            arrivals.current.push(Date.now(), Date.now());
          }
        } finally {
          clearInterval(timer);
          flushEvents();
          abort.current = null;
          setBusy(false);
          if (exitAfterTurn.current) {
            exitNowRef.current();
            return;
          }
          const next = queuedPrompt.current;
          queuedPrompt.current = null;
          if (next !== null) setTimeout(() => sendTurnRef.current(next.text, next.shownAs), 0);
        }
      })();
    },
    [flushEvents],
  );

  const sendTurnRef = useRef<(text: string, shownAs: string) => void>(() => {});
  const exitAfterTurn = useRef(false);
  const exitNowRef = useRef<() => void>(() => {});

  const cancel = useCallback(() => {
    if (abort.current !== null && !abort.current.signal.aborted) {
      abort.current.abort();
      // Show the stop now. The engine stops at its next token or prefill chunk, which on a large
      // model can take a while; the turn stays busy until it has (a prompt typed meanwhile is
      // queued), but nothing it still emits is shown.
      queue.current.push({ type: "turn_end", reason: "cancelled" });
      arrivals.current.push(Date.now());
      flushEvents();
      dropEvents.current = true;
    }
  }, [flushEvents]);

  const exitNow = useCallback(() => {
    props.onExit?.();
    exit();
  }, [exit, props]);

  exitNowRef.current = exitNow;

  /** Exits once a running turn has unwound (the engine is disposed after unmount). */
  const quit = useCallback(() => {
    if (abort.current === null || exitAfterTurn.current) {
      exitNow(); // nothing running, or asked twice: do not wait any longer
      return;
    }
    exitAfterTurn.current = true;
    abort.current.abort();
    setHint("stopping…");
  }, [exitNow]);

  const slashContext = useMemo<SlashContext>(
    () => ({
      get driver() {
        return driverRef.current;
      },
      services,
      notice,
      clearScreen() {
        if (stdout.isTTY === true) stdout.write("\u001b[2J\u001b[3J\u001b[H");
        setTranscript(emptyTranscript());
        setStaticEpoch((e) => e + 1);
      },
      replaceDriver(d) {
        driverRef.current = d;
        setDriver(d);
        setMode(d.mode);
      },
      toggleThinking() {
        const next = !showThinkingRef.current;
        showThinkingRef.current = next;
        setShowThinking(next);
        return next;
      },
      submit(text, shownAs) {
        sendTurnRef.current(text, shownAs ?? text);
      },
      compact(focus) {
        consume((signal) => driverRef.current.compact(focus, signal));
      },
      exit: quit,
      get busy() {
        return abort.current !== null || taskRef.current;
      },
      runTask(label, work) {
        taskRef.current = true;
        setTask({ label });
        let last = 0;
        void work((progress) => {
          // The loader reports thousands of times a second; a few repaints show the movement.
          const now = Date.now();
          if (now - last < FLUSH_MS * 2 && progress.phase !== "ready") return;
          last = now;
          setTask({ label, progress });
        })
          .catch((err: unknown) => notice(`${label}: ${err instanceof Error ? err.message : String(err)}`, "error"))
          .finally(() => {
            taskRef.current = false;
            setTask(null);
          });
      },
      commands: SLASH_COMMANDS,
    }),
    [services, notice, stdout, consume, quit],
  );

  const submit = useCallback(
    (raw: string) => {
      const text = raw.replace(/\s+$/, "");
      if (text.trim() === "") return;
      history.add(text);
      historyIndex.current = -1;
      const slash = parseSlashCommand(text);
      if (slash !== null && !("unknown" in slash)) {
        try {
          slash.command.run(slash.args, slashContext);
        } catch (err) {
          notice(`/${slash.command.name}: ${err instanceof Error ? err.message : String(err)}`, "error");
        }
        return;
      }
      if (slash !== null && "unknown" in slash && !text.includes("\n")) {
        notice(`unknown command /${slash.unknown} (type /help)`, "warn");
        return;
      }
      sendTurnRef.current(text, text);
    },
    [history, slashContext, notice],
  );

  /** Starts a turn with `text` (shown in the transcript as `shownAs`), or queues it behind the running one. */
  const sendTurn = useCallback(
    (text: string, shownAs: string) => {
      if (taskRef.current) {
        setHint("wait until the model has loaded");
        return;
      }
      if (abort.current !== null) {
        queuedPrompt.current = { text, shownAs };
        setHint("queued: sends when the current turn ends");
        return;
      }
      setTranscript((t) => addUserMessage(t, shownAs));
      consume((signal) => driverRef.current.run(text, signal));
    },
    [consume],
  );
  sendTurnRef.current = sendTurn;


  const inputRef = useRef(input);
  const setBuf = (b: edit.InputBuffer) => {
    inputRef.current = b;
    setInput(b);
  };
  const paletteIndexRef = useRef(paletteIndex);
  const setPalette = (i: number) => {
    paletteIndexRef.current = i;
    setPaletteIndex(i);
  };
  const permissionIndexRef = useRef(permissionIndex);
  const setPermission = (i: number) => {
    permissionIndexRef.current = i;
    setPermissionIndex(i);
  };
  const transcriptRef = useRef(transcript);
  transcriptRef.current = transcript;
  const busyRef = useRef(busy);
  busyRef.current = busy;
  const palette = busy || transcript.permission !== undefined ? [] : matchSlashCommands(input.text);
  const paletteSel = Math.min(paletteIndex, Math.max(0, palette.length - 1));

  const onKey = (ch: string, key: Key) => {
    // Keys can arrive faster than React re-renders: read and write the buffer through a ref so
    // no keystroke edits a stale copy.
    const input = inputRef.current;
    const palette = busyRef.current || transcriptRef.current.permission !== undefined ? [] : matchSlashCommands(input.text);
    const paletteSel = Math.min(paletteIndexRef.current, Math.max(0, palette.length - 1));
    const transcript = transcriptRef.current;
    if (ch === "[200~") {
      pasting.current = true;
      return;
    }
    if (ch === "[201~") {
      pasting.current = false;
      return;
    }
    setHint(null);

    const permission = transcript.permission;
    if (permission !== undefined) {
      const decide = (i: number) => {
        const choice = PERMISSION_CHOICES[i];
        if (choice === undefined) return;
        try {
          driverRef.current.respondToPermission(permission.id, choice.decision);
        } catch (err) {
          notice(err instanceof Error ? err.message : String(err), "error");
        }
        transcriptRef.current = clearPermission(transcriptRef.current);
        setTranscript((t) => clearPermission(t));
      };
      if (key.upArrow) setPermission((permissionIndexRef.current + PERMISSION_CHOICES.length - 1) % PERMISSION_CHOICES.length);
      else if (key.downArrow) setPermission((permissionIndexRef.current + 1) % PERMISSION_CHOICES.length);
      else if (key.return) decide(permissionIndexRef.current);
      else if (key.escape) decide(PERMISSION_CHOICES.length - 1);
      else if (/^[1-4]$/.test(ch)) decide(Number(ch) - 1);
      else if (key.ctrl && ch === "c") cancel();
      else if (key.tab && key.shift) cycleMode();
      return;
    }

    if (key.ctrl && ch === "c") {
      if (input.text !== "") {
        setBuf(edit.EMPTY_INPUT);
        return;
      }
      if (abort.current !== null) {
        cancel();
        return;
      }
      const now = Date.now();
      if (now - lastCtrlC.current < CTRL_C_EXIT_WINDOW_MS) {
        quit();
        return;
      }
      lastCtrlC.current = now;
      setHint("press Ctrl+C again to exit");
      return;
    }
    if (key.ctrl && ch === "d") {
      if (input.text === "") quit();
      else setBuf(edit.deleteForward(input));
      return;
    }
    if (key.escape) {
      if (abort.current !== null) cancel();
      else if (input.text.startsWith("/")) setBuf(edit.EMPTY_INPUT);
      return;
    }
    if (key.tab && key.shift) {
      cycleMode();
      return;
    }
    if (key.ctrl && ch === "o") {
      const live = transcript.live.some((i) => i.kind === "assistant" && i.reasoning !== "");
      if (live) setExpandLive((v) => !v);
      else {
        const r = lastReasoning(transcript);
        if (r !== undefined) setTranscript((t) => addReasoningReplay(t, r));
        else setHint("no reasoning to show yet");
      }
      return;
    }
    const newline = (key.return && (key.shift || key.meta || pasting.current)) || ch === "\n" || (key.ctrl && ch === "j");
    if (newline) {
      setBuf(edit.insert(input, "\n"));
      return;
    }
    if (key.return) {
      if (input.text.slice(0, input.cursor).endsWith("\\")) {
        setBuf(edit.insert(edit.backspace(input), "\n"));
        return;
      }
      const chosen = palette[paletteSel];
      if (chosen !== undefined && input.text !== `/${chosen.name}`) {
        setBuf(edit.EMPTY_INPUT);
        submit(`/${chosen.name}`);
        return;
      }
      const text = input.text;
      setBuf(edit.EMPTY_INPUT);
      submit(text);
      return;
    }
    if (key.tab) {
      const chosen = palette[paletteSel];
      if (chosen !== undefined) setBuf(edit.fromText(`/${chosen.name} `));
      return;
    }
    if (key.upArrow) {
      if (palette.length > 0) setPalette((paletteSel + palette.length - 1) % palette.length);
      else if (edit.onFirstLine(input)) browseHistory(-1);
      else setBuf(edit.verticalMove(input, -1));
      return;
    }
    if (key.downArrow) {
      if (palette.length > 0) setPalette((paletteSel + 1) % palette.length);
      else if (edit.onLastLine(input)) browseHistory(1);
      else setBuf(edit.verticalMove(input, 1));
      return;
    }
    if (key.leftArrow) return setBuf(edit.left(input));
    if (key.rightArrow) return setBuf(edit.right(input));
    if (key.home || (key.ctrl && ch === "a")) return setBuf(edit.lineStart(input));
    if (key.end || (key.ctrl && ch === "e")) return setBuf(edit.lineEnd(input));
    if (key.ctrl && ch === "u") return setBuf(edit.killToLineStart(input));
    if (key.ctrl && ch === "w") return setBuf(edit.killWordBack(input));
    if (key.backspace || (key.delete && ch === "")) return setBuf(edit.backspace(input));
    if (key.delete) return setBuf(edit.deleteForward(input));
    if (key.ctrl || key.meta || ch === "") return;
    if (!pasting.current && ch.length > 1 && /[\r\n]$/.test(ch)) {
      // Typed-ahead text and Enter arriving in one read (fast typists, tmux send-keys): the
      // final CR submits; earlier ones are newlines of an unbracketed paste.
      const text = edit.insert(input, ch.slice(0, -1)).text;
      setBuf(edit.EMPTY_INPUT);
      submit(text);
      return;
    }
    setPalette(0);
    setBuf(edit.insert(input, ch));
  };

  const cycleMode = () => {
    const next = driverRef.current.cycleMode();
    setMode(next);
  };

  const browseHistory = (dir: -1 | 1) => {
    const all = history.all;
    if (all.length === 0) return;
    if (historyIndex.current === -1) {
      if (dir === 1) return;
      draft.current = inputRef.current.text;
      historyIndex.current = all.length - 1;
    } else {
      const next = historyIndex.current + dir;
      if (next >= all.length) {
        historyIndex.current = -1;
        setBuf(edit.fromText(draft.current));
        return;
      }
      historyIndex.current = Math.max(0, next);
    }
    setBuf(edit.fromText(all[historyIndex.current]!));
  };

  useInput(onKey);

  const lineOpts = { style, width, showThinking };
  // Ink clears the whole screen (and rewrites the scrollback) whenever its live output reaches the
  // terminal height, so the live turn gets exactly what the footer leaves, minus a spare row.
  const openTodos = transcript.todos.some((t) => t.status !== "completed") ? transcript.todos.length : 0;
  const statusRows = statusLines({ modelName: driver.model.name, contextWindow: driver.model.contextWindow, telemetry: transcript.telemetry, mode, cwd: props.cwd, branch: props.branch, width }).length;
  const permissionRows = transcript.permission !== undefined ? 7 + (transcript.permission.diff ? Math.min(9, transcript.permission.diff.split("\n").length + 1) : 0) : 0;
  const inputRows = transcript.permission !== undefined ? 0 : 2 + input.text.split("\n").reduce((n, line) => n + rowsOf(`› ${line} `, width - 4), 0);
  const footerRows = 1 + (task !== null ? 1 : 0) + inputRows + permissionRows + palette.length + openTodos + (hint !== null ? 1 : 0) + statusRows;
  const liveBudget = Math.max(3, rows - footerRows - 3);
  const liveLines = transcript.live.flatMap((item) => itemLines(item, { ...lineOpts, showThinking: showThinking || expandLive }));
  const telemetry = transcript.telemetry;

  return (
    <Box flexDirection="column">
      <Static key={staticEpoch} items={transcript.done}>
        {(item: TranscriptItem) => <Text key={item.id}>{itemLines(item, lineOpts).join("\n")}</Text>}
      </Static>
      {liveLines.length > 0 ? <Text>{tailToRows(liveLines, liveBudget, width, style).join("\n")}</Text> : null}
      <TodoList items={transcript.todos} />
      {busy && transcript.permission === undefined ? <Text dimColor>{abort.current?.signal.aborted === true ? "  stopping…" : "  working… (esc to cancel)"}</Text> : null}
      {task !== null ? (
        <Text dimColor>
          {`  ${task.label}… ${Math.round(loadFraction(task.progress) * 100)}% ${loadDetail(task.progress)}`}
        </Text>
      ) : null}
      {transcript.permission !== undefined ? (
        <PermissionPrompt request={transcript.permission} selected={permissionIndex} style={style} maxDiffLines={8} />
      ) : (
        <PromptInput buffer={input} placeholder={busy ? "type ahead; Enter queues it" : "Ask K2 anything · / for commands"} focused />
      )}
      <SlashPalette matches={palette} selected={paletteSel} />
      {hint !== null ? <Text color="yellow">{hint}</Text> : null}
      <StatusLine modelName={driver.model.name} contextWindow={driver.model.contextWindow} telemetry={telemetry} mode={mode} cwd={props.cwd} branch={props.branch} width={width} />
    </Box>
  );
}
