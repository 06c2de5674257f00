// The first frame of the interactive app: shown while the model loads. Kept apart from the chat
// screen so the loading screen paints before the heavier UI modules (markdown, highlighting) load.
import { useStdout } from "ink";
import { useEffect, useState } from "react";
import type { LoadProgress as Progress } from "../engine/types.js";
import { LoadProgress, type LoadMemoryEstimate } from "./components/LoadProgress.js";

export interface LoadingScreenProps {
  modelName: string;
  subscribe: (onProgress: (p: Progress) => void) => void;
  memory?: LoadMemoryEstimate;
}

// The loader reports thousands of times a second; the screen repaints at most this often, except
// that a new phase shows at once (the native mapping step blocks the thread right after it starts).
const REPAINT_MS = 100;

export function LoadingScreen({ modelName, subscribe, memory }: LoadingScreenProps) {
  const { stdout } = useStdout();
  const [progress, setProgress] = useState<Progress | undefined>(undefined);
  const [elapsedS, setElapsedS] = useState(0);
  useEffect(() => {
    const started = performance.now();
    let pending: Progress | undefined;
    let shownPhase: Progress["phase"] | undefined;
    const timer = setInterval(() => {
      setElapsedS((performance.now() - started) / 1000);
      if (pending !== undefined) {
        setProgress(pending);
        pending = undefined;
      }
    }, REPAINT_MS);
    subscribe((p) => {
      if (p.phase !== shownPhase) {
        shownPhase = p.phase;
        pending = undefined;
        setProgress(p);
      } else pending = p;
    });
    return () => clearInterval(timer);
  }, [subscribe]);
  return <LoadProgress modelName={modelName} progress={progress} memory={memory} elapsedS={elapsedS} width={stdout.columns > 0 ? stdout.columns : 80} />;
}
