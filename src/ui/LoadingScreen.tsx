// The first frame of the interactive app: shown while the model loads. Kept apart from the chat
// screen so the loading screen paints before the heavier UI modules (markdown, highlighting) load.
import { useStdout } from "ink";
import { useEffect, useState } from "react";
import type { LoadProgress as Progress } from "../engine/types.js";
import { LoadProgress } from "./components/LoadProgress.js";

export interface LoadingScreenProps {
  modelName: string;
  subscribe: (onProgress: (p: Progress) => void) => void;
  memoryEstimateBytes?: number;
}

export function LoadingScreen({ modelName, subscribe, memoryEstimateBytes }: LoadingScreenProps) {
  const { stdout } = useStdout();
  const [progress, setProgress] = useState<Progress | undefined>(undefined);
  useEffect(() => {
    let pending: Progress | undefined;
    const timer = setInterval(() => {
      if (pending !== undefined) {
        setProgress(pending);
        pending = undefined;
      }
    }, 100);
    subscribe((p) => {
      pending = p;
    });
    return () => clearInterval(timer);
  }, [subscribe]);
  return <LoadProgress modelName={modelName} progress={progress} memoryEstimateBytes={memoryEstimateBytes} width={stdout.columns > 0 ? stdout.columns : 80} />;
}
