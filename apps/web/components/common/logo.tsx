/** The product mark: a flame made of stacked frames, as a flame graph draws them. */
export function Logo({ size = 22 }: { size?: number }) {
	return (
		<svg width={size} height={size} viewBox="0 0 24 24" aria-hidden="true" className="logo">
			<rect x="2" y="18" width="20" height="4" rx="1" fill="#e0552f" />
			<rect x="4" y="13" width="13" height="4" rx="1" fill="#f07a35" />
			<rect x="18" y="13" width="4" height="4" rx="1" fill="#f5a142" />
			<rect x="5" y="8" width="8" height="4" rx="1" fill="#f5a142" />
			<rect x="7" y="3" width="4" height="4" rx="1" fill="#f9cd5a" />
		</svg>
	);
}
