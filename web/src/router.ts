// Hash routes ("#/datastore/store1/content"): the server serves one page, so a reload or a
// bookmark of any view works without server-side routes.
import { useEffect, useState } from "preact/hooks";

export function currentRoute(): string[] {
  const hash = location.hash.replace(/^#\/?/, "");
  return hash ? hash.split("/").map((part) => decodeURIComponent(part)) : [];
}

export function href(...parts: string[]): string {
  return "#/" + parts.map((part) => encodeURIComponent(part)).join("/");
}

export function navigate(...parts: string[]) {
  location.hash = href(...parts);
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(currentRoute());
  useEffect(() => {
    const update = () => setRoute(currentRoute());
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
