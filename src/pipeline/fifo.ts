/** A FIFO with O(1) shift (a plain array's shift is O(n) once queues are long). */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Keeps only the items for which `keep` is true; returns how many were removed. */
  retain(keep: (item: T) => boolean): number {
    const before = this.length;
    this.#items = (this.#items.slice(this.#head) as T[]).filter(keep);
    this.#head = 0;
    return before - this.#items.length;
  }
}
